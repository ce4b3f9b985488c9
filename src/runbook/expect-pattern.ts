// `verify.expect` as the engine matches it, in one place for lint, preflight and the verification:
// compiled with the same flags, compiled for real (V8 reports some errors, "regular expression too
// large", only at the first match), and matched under a time limit, since a backtracking pattern
// on a large output would otherwise hold the engine's only thread (and its signal handling) forever.
import { createContext, runInContext } from 'node:vm';

/** Matched against each line of the output: `^` and `$` at line ends; no `u`, as written since 0.1. */
export const expectFlags = 'm';

/** How long one match may take; a pattern slower than this on an output is a failed verification. */
export const expectMatchLimitMs = 1000;

/** The pattern compiled as the engine uses it; throws what V8 throws (a SyntaxError). */
const compileExpect = (pattern: string): RegExp => {
  const regexp = new RegExp(pattern, expectFlags);
  // V8 compiles lazily: a match forces the compilation that can still fail.
  regexp.test('');
  return regexp;
};

const syntaxReason = (error: unknown): string =>
  String((error as Error)?.message ?? error)
    .replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')
    .toLowerCase();

/**
 * Why `pattern` cannot be a `verify.expect` (as the end of "verify.expect of step 'x' …"), or
 * undefined. Expressions are not expanded there (as in shell text): `${{` would be matched as
 * written, and `$` followed by `{` can never match, so the step could never pass.
 */
export const whyUnusableExpect = (pattern: string): string | undefined => {
  const expression = /\$\{\{.*?\}\}/s.exec(pattern);
  if (expression)
    return `holds '${expression[0]}', which is not expanded: expect is matched as written (compare in verify.run instead, e.g. grep -qx -- "$VALUE")`;
  const why = whyInvalidPattern(pattern);
  return why === undefined ? undefined : `is no regular expression: ${why}`;
};

/** Why `pattern` is no regular expression the engine can match, or undefined. */
export const whyInvalidPattern = (pattern: string): string | undefined => {
  try {
    compileExpect(pattern);
    return undefined;
  } catch (error) {
    return syntaxReason(error);
  }
};

/** A separate context: its time limit interrupts a match without stopping anything else. */
const sandbox = createContext({ pattern: '', flags: expectFlags, text: '' });

/** Whether `text` matches `pattern`, or why that could not be decided (never throws). */
export const matchExpect = (pattern: string, text: string, limitMs = expectMatchLimitMs): { matched: boolean } | { error: string } => {
  const why = whyUnusableExpect(pattern);
  if (why !== undefined) return { error: `verify.expect /${pattern}/ ${why}` };
  Object.assign(sandbox, { pattern, text });
  try {
    return { matched: runInContext('new RegExp(pattern, flags).test(text)', sandbox, { timeout: limitMs }) === true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
      return {
        error: `verify.expect /${pattern}/ took longer than ${limitMs} ms to match the output (a pattern that backtracks, such as nested quantifiers): simplify it`,
      };
    return { error: `verify.expect /${pattern}/ cannot be matched: ${syntaxReason(error)}` };
  } finally {
    Object.assign(sandbox, { text: '' });
  }
};
