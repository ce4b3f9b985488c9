// Principle 5: `${{ }}` is never expanded in shell text. Pasting values into shell is how quoting
// bugs and injections happen; values reach shell as environment variables instead.
import { listShellTexts, type Rule } from '../rule.js';

const suggestion = (inner: string): string => {
  const ref = inner.trim().match(/^(vars|secrets|env)\.([A-Za-z_][A-Za-z0-9_]*)$/);
  if (ref) return `use "$${ref[2]}" instead`;
  return `set a variable with 'env:' (e.g. env: { VALUE: '\${{${inner}}}' }) and use "$VALUE"`;
};

export const expressionInShell: Rule = {
  id: 'expression-in-shell',
  severity: 'error',
  description: 'No ${{ }} expressions inside run/verify shell text; values reach shell through environment variables.',
  check: ({ runbook, report }) => {
    for (const { text, path } of listShellTexts(runbook)) {
      let from = 0;
      for (;;) {
        const start = text.indexOf('${{', from);
        if (start < 0) break;
        const close = text.indexOf('}}', start + 3);
        const shown = close < 0 ? text.slice(start, start + 20) : text.slice(start, close + 2);
        const inner = close < 0 ? '' : text.slice(start + 3, close);
        report({
          path,
          index: start,
          message: `'${shown}' in shell text is not expanded. note that vars and secrets are exported as environment variables: ${suggestion(inner)}`,
        });
        if (close < 0) break;
        from = close + 2;
      }
    }
  },
};
