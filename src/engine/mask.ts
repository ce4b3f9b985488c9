// Secret masking: every string the engine writes anywhere passes through one masker, so a secret
// reaches neither the terminal, nor log.txt, nor the journal, nor an error message — neither as
// itself nor in the encodings a command is likely to print it in (base64, URL, JSON, hex, and the
// shell's own quoting: `set -x`, `${S@Q}`, `printf %q`, `declare -p`). Text is masked whole before
// anything cuts it, so no cut can leave part of a secret behind.

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

/** Escapes of bash's `$'…'` quoting (ansic_quote): what `${S@Q}`, `printf %q` and `declare -p` use for control characters. */
const ansiCEscapes: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\x1b': '\\E',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  "'": "\\'",
};

const octal = (byte: number): string => `\\${byte.toString(8).padStart(3, '0')}`;

/** The inside of `$'…'`; outside a UTF-8 locale bash writes each non-ASCII byte in octal. */
const ansiCQuoted = (value: string, octalNonAscii: boolean): string => {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (ansiCEscapes[char] !== undefined) out += ansiCEscapes[char];
    else if (code < 0x20 || code === 0x7f) out += octal(code);
    else if (code > 0x7f && octalNonAscii) out += [...Buffer.from(char)].map(octal).join('');
    else out += char;
  }
  return out;
};

/**
 * How bash prints `value` quoted: inside '…' as `set -x` and `${S@Q}` do (`'` as `'\''`), inside
 * `$'…'` (control characters, or any `'` under `@Q` of such a value), with `printf %q`'s backslashes,
 * and inside "…" as `declare -p` and `export -p` do (`\"` `\$` `\\` and a backquote escaped).
 */
const shellQuotedForms = (value: string): string[] => [
  value.replace(/'/g, "'\\''"),
  ansiCQuoted(value, false),
  ansiCQuoted(value, true),
  value.replace(/[ !"$&'()*,;<>?[\\\]^`{|}]/g, '\\$&'),
  value.replace(/["$\\`]/g, '\\$&'),
];

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
  forms.push(...shellQuotedForms(value));
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

/**
 * Fields that identify rather than describe: record types, ids, run ids, hashes, times, the
 * runbook's name, states. A secret that happens to equal one of them must not rewrite it, or a
 * journal no longer says which step was done (preflight warns about such a secret instead).
 */
const structuralKeys = new Set([
  'type',
  'id',
  'runId',
  'runbook',
  'file',
  'contentHash',
  'hash',
  'commit',
  'sha256',
  'seq',
  't',
  'phase',
  'stream',
  'status',
  'answer',
  'outcome',
  'failedStep',
  'signal',
  'environment',
  'needs',
  'from',
  'only',
  'env',
  'steps',
  'secrets',
  'requires',
  'provides',
]);

/** A value that names or counts rather than tells: a string, a number, or a list of them. */
const isAtom = (value: unknown): boolean =>
  typeof value !== 'object' || value === null || (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null));

/**
 * Objects made only of names and digests by construction (a run's `inputs`: salted sha256 of the
 * vars and env-file values, secrets by name): a short hex-like secret must not rewrite a digest, or
 * a resume would see a change that is none.
 */
const opaqueKeys = new Set(['inputs', 'dirty']);

/** Objects whose keys are names (outputs, vars): the keys stay, the values are text. */
const namedValues = new Set(['outputs', 'vars']);

/**
 * Masks the text of a record (an event, a journal record, a plan as JSON): every string except the
 * structural fields above and the keys of objects, which are names the runbook itself chose.
 */
export const maskRecord = <T>(value: T, mask: Masker): T => {
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskRecord(item, mask)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        if (structuralKeys.has(key) && isAtom(item)) return [key, item];
        if (opaqueKeys.has(key)) return [key, item];
        if (namedValues.has(key) && item && typeof item === 'object' && !Array.isArray(item))
          return [key, Object.fromEntries(Object.entries(item).map(([name, text]) => [name, maskRecord(text, mask)]))];
        return [key, maskRecord(item, mask)];
      }),
    ) as T;
  }
  return value;
};

let processMasker: Masker = (text) => text;
const known: string[] = [];

/**
 * Registers the secret values this process knows of, for text that leaves it outside a run's own
 * masker: a usage error quoting a resolved value, say. Later calls add to earlier ones.
 */
export const registerSecrets = (values: readonly string[]): void => {
  const fresh = values.filter((value) => value.length >= minSecretLength && !known.includes(value));
  if (fresh.length === 0) return;
  known.push(...fresh);
  processMasker = createMasker(known);
};

/** Masks `text` with every secret registered so far. */
export const maskKnown: Masker = (text) => processMasker(text);
