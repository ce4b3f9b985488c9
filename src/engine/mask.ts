// Secret masking: every string the engine writes anywhere passes through one masker, so a secret
// reaches neither the terminal, nor log.txt, nor the journal, nor an error message — neither as
// itself nor in the encodings a command is likely to print it in (base64, URL, JSON, hex).

/** Secrets shorter than this are refused: masking them would shred ordinary output. */
export const minSecretLength = 4;

/** Encoded forms shorter than this are not masked on their own: too likely to occur by chance. */
const minEncodedLength = 8;

/** GNU `base64` wraps its output at this column. */
const base64Wrap = 76;

export type Masker = (text: string) => string;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The base64 text of `bytes` wherever they sit in a longer input: for each of the three alignments,
 * the characters that encode only the value's own bytes (the partial groups at both ends depend on
 * the neighbours and are left out).
 */
const embeddedBase64 = (bytes: Buffer): string[] => {
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const skip = shift === 0 ? 0 : 3; // the first group mixes padding and value bytes
    const whole = Math.floor((padded.length - skip) / 3) * 3;
    if (whole <= 0) continue;
    forms.push(padded.subarray(skip, skip + whole).toString('base64'));
  }
  return forms;
};

/** The forms a command may print `value` in, besides itself. */
const encodedForms = (value: string): string[] => {
  const forms: string[] = [];
  const bytes = Buffer.from(value, 'utf8');
  // `printf %s "$S" | base64` and `echo "$S" | base64` (a trailing newline), wrapped or not.
  for (const input of [bytes, Buffer.concat([bytes, Buffer.from('\n')])]) {
    for (const encoded of [input.toString('base64'), input.toString('base64url')]) {
      forms.push(encoded);
      for (let at = 0; at < encoded.length; at += base64Wrap) forms.push(encoded.slice(at, at + base64Wrap));
    }
  }
  forms.push(...embeddedBase64(bytes));
  const url = encodeURIComponent(value);
  forms.push(
    url,
    url.replace(/%20/g, '+'),
    url.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    encodeURI(value),
  );
  // Inside a JSON string (jq, a JSON log line): quotes, backslashes, newlines escaped; also `\u` escapes for non-ASCII.
  const json = JSON.stringify(value).slice(1, -1);
  forms.push(
    json,
    json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    json.replace(/\//g, '\\/'),
  );
  forms.push(bytes.toString('hex'));
  return forms.filter((form) => form.length >= minEncodedLength && form !== value);
};

/**
 * Builds a masker for `values`: each whole value, each line of a multi-line value (lines of at
 * least {@link minSecretLength} characters, trimmed), and their base64, base64url, URL-encoded,
 * JSON-escaped and hex forms, replaced with `***`. The needles are computed once, here; masking a
 * text is one pass of one regular expression whose alternatives go longest first, so a value
 * containing another is masked whole.
 */
export const createMasker = (values: readonly string[]): Masker => {
  const needles = new Set<string>();
  for (const value of values) {
    const pieces = [value, ...value.split(/\r?\n/).map((line) => line.trim())].filter((piece) => piece.length >= minSecretLength);
    for (const piece of pieces) {
      needles.add(piece);
      for (const form of encodedForms(piece)) needles.add(form);
    }
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  const pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, '***');
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
