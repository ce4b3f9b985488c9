// Every form in which a secret could leak, computed without mask.ts: the value and its common
// encodings (the shell's own quoting asked from bash itself), and every 8-character piece of the
// value and of its hex form, so a cut secret counts as a leak too.
import { execFileSync } from 'node:child_process';

/** Runs a bash script in `locale` with only PATH and `env` set, for what bash itself prints. */
export const bash = (script: string, env: Record<string, string>, locale = 'C.UTF-8'): string =>
  execFileSync('bash', ['-c', script], { env: { PATH: process.env.PATH, LC_ALL: locale, ...env }, encoding: 'utf8' });

/** Every form a leak of `value` could take (at least 8 characters: shorter ones occur by chance). */
export const leakForms = (value: string): string[] => {
  const forms = new Set<string>();
  for (const piece of [value, ...value.split('\n').filter((line) => line.trim().length >= 4)]) {
    forms.add(piece);
    forms.add(
      Buffer.from(piece)
        .toString('base64')
        .slice(0, Math.floor(Buffer.byteLength(piece) / 3) * 4),
    );
    forms.add(encodeURIComponent(piece));
    forms.add(JSON.stringify(piece).slice(1, -1));
    const hex = Buffer.from(piece).toString('hex');
    for (let at = 0; at + 16 <= hex.length; at += 2) forms.add(hex.slice(at, at + 16));
    for (let at = 0; at + 8 <= piece.length; at++) forms.add(piece.slice(at, at + 8));
    for (const locale of ['C.UTF-8', 'C']) {
      const quoted = bash(`printf '%s\\n' "\${S@Q}"; printf '%q\\n' "$S"; declare -p S; set -x; : "$S"`, { S: piece }, locale);
      for (const line of quoted.split('\n')) forms.add(line.replace(/^(declare -x S=|\+ : )/, ''));
    }
  }
  return [...forms].filter((form) => form.length >= 8);
};

const formsOf = new Map<string, string[]>();

/** The leak forms of `value` that `text` holds. */
export const leaksIn = (text: string, value: string): string[] => {
  if (!formsOf.has(value)) formsOf.set(value, leakForms(value));
  return formsOf.get(value)!.filter((form) => text.includes(form));
};
