// Names read from a manifest or a folder listing are untrusted input: whoever can write the bucket
// writes them, and a restore running as root joins them to its target. Only plain relative paths
// that stay below the folder they are joined to are accepted.

/** Why `name` is not a safe relative path (no absolute path, no `.`/`..`/empty part, no NUL or line break), or undefined when it is one. */
export const unsafeNameReason = (name: unknown): string | undefined => {
  if (typeof name !== 'string' || name === '') return 'empty or not a string';
  if (/[\0\n\r]/.test(name)) return 'holds a NUL or line break';
  if (name.startsWith('/')) return 'is absolute';
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..')) return "has an empty, '.' or '..' part";
  return undefined;
};

/** Shows a name from a manifest in a message: JSON-quoted, so a line break or control character stays visible. */
export const showName = (name: unknown): string => {
  const text = JSON.stringify(name) ?? String(name);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};
