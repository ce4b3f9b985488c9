// Values reach shell text only through this quoting (or environment variables), never raw.

const safe = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for bash: `it's` → `'it'\''s'`; plain words stay as they are. */
export const shellQuote = (value: string | number | boolean): string => {
  const text = String(value);
  if (text !== '' && safe.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
};

/** `NAME=value` lines, quoted, in a stable order: the head of an action's shell. */
export const shellAssignments = (values: Record<string, string | number | boolean | undefined>): string =>
  Object.entries(values)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${shellQuote(value)}`)
    .join('\n');
