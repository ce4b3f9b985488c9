// Secret masking: every string the engine writes anywhere passes through one masker, so a secret
// reaches neither the terminal, nor log.txt, nor the journal, nor an error message.

/** Secrets shorter than this are refused: masking them would shred ordinary output. */
export const minSecretLength = 4;

export type Masker = (text: string) => string;

/**
 * Builds a masker for `values`: each whole value, and each line of a multi-line value (lines of
 * at least {@link minSecretLength} characters, trimmed), replaced with `***`, longest first so a
 * value containing another is masked whole.
 */
export const createMasker = (values: readonly string[]): Masker => {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length >= minSecretLength) needles.add(value);
    for (const line of value.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= minSecretLength) needles.add(trimmed);
    }
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of sorted) if (out.includes(needle)) out = out.split(needle).join('***');
    return out;
  };
};

/** Masks every string inside a JSON-like value (keys included). */
export const maskDeep = <T>(value: T, mask: Masker): T => {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, mask)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [mask(key), maskDeep(item, mask)])) as T;
  }
  return value;
};
