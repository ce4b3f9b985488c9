// The `${{ … }}` expression language: references (vars.X, secrets.X, steps.ID.outputs.K, env.X),
// string/number/boolean literals, == != && || ! and parentheses, and contains/startsWith/endsWith.
// Expressions are resolved in `with`, `env`, `when` and `notify`, never inside shell text.

export type ExpressionNode =
  | { type: 'literal'; value: string | number | boolean | null }
  | { type: 'ref'; root: RefRoot; path: string[]; offset: number }
  | { type: 'not'; operand: ExpressionNode }
  | { type: 'binary'; op: '==' | '!=' | '&&' | '||'; left: ExpressionNode; right: ExpressionNode }
  | { type: 'call'; name: FunctionName; args: ExpressionNode[] };

export type RefRoot = 'vars' | 'secrets' | 'steps' | 'env';
export type FunctionName = 'contains' | 'startsWith' | 'endsWith';

const roots: readonly RefRoot[] = ['vars', 'secrets', 'steps', 'env'];
const functions: readonly FunctionName[] = ['contains', 'startsWith', 'endsWith'];

/** A mistake in an expression; `offset` is relative to the start of the expression's source. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface Scope {
  vars: Record<string, unknown>;
  secrets: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string> }>;
  env: Record<string, string | undefined>;
}

export interface FoundExpression {
  /** Offset of `${{` in the text. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
  /** The text between the braces. */
  source: string;
  /** Offset of `source` in the text. */
  sourceStart: number;
}

const tokenPattern = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^']|'')*')|("(?:[^"\\]|\\.)*")|(==|!=|&&|\|\||[!(),.])|([A-Za-z_][A-Za-z0-9_-]*))/y;

/** A double-quoted literal with JSON escapes; an escape JSON does not know (`\\v`) is an ExpressionError, not a crash. */
const parseDoubleQuoted = (text: string, offset: number): string => {
  try {
    return JSON.parse(text) as string;
  } catch {
    throw new ExpressionError(`invalid escape in string ${text} (known: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`, offset);
  }
};

/** Every `${{ … }}` in `text`; an unclosed one is an error at its start. */
export const findExpressions = (text: string): FoundExpression[] => {
  const found: FoundExpression[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) return found;
    const close = text.indexOf('}}', start + 3);
    if (close < 0) throw new ExpressionError(`'\${{' is never closed with '}}'`, start);
    found.push({ start, end: close + 2, source: text.slice(start + 3, close), sourceStart: start + 3 });
    from = close + 2;
  }
};

type Token = { kind: 'number' | 'string' | 'punct' | 'word'; text: string; offset: number };

const tokenize = (source: string): Token[] => {
  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(tokenPattern.lastIndex))) break;
    const at = tokenPattern.lastIndex;
    const match = tokenPattern.exec(source);
    if (!match) {
      const offset = at + (source.slice(at).length - source.slice(at).trimStart().length);
      throw new ExpressionError(`unexpected character '${source[offset]}'`, offset);
    }
    const offset = match.index + match[0].length - match[0].trimStart().length;
    const [, number, single, double, punct, word] = match;
    if (number !== undefined) tokens.push({ kind: 'number', text: number, offset });
    else if (single !== undefined) tokens.push({ kind: 'string', text: single.slice(1, -1).replace(/''/g, "'"), offset });
    else if (double !== undefined) tokens.push({ kind: 'string', text: parseDoubleQuoted(double, offset), offset });
    else if (punct !== undefined) tokens.push({ kind: 'punct', text: punct, offset });
    else tokens.push({ kind: 'word', text: word!, offset });
  }
  return tokens;
};

/** Parses the text between `${{` and `}}`. */
export const parseExpression = (source: string): ExpressionNode => {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const end = () => source.length;
  const expect = (text: string) => {
    const token = tokens[i];
    if (token?.text !== text || token.kind === 'string') throw new ExpressionError(`expected '${text}'`, token?.offset ?? end());
    i++;
  };
  const primary = (): ExpressionNode => {
    const token = tokens[i++];
    if (!token) throw new ExpressionError('expression ends too early', end());
    if (token.kind === 'number') return { type: 'literal', value: Number(token.text) };
    if (token.kind === 'string') return { type: 'literal', value: token.text };
    if (token.kind === 'punct' && token.text === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.kind === 'punct' && token.text === '!') return { type: 'not', operand: primary() };
    if (token.kind === 'word') {
      if (token.text === 'true' || token.text === 'false') return { type: 'literal', value: token.text === 'true' };
      if (token.text === 'null') return { type: 'literal', value: null };
      if (peek()?.text === '(') {
        if (!functions.includes(token.text as FunctionName))
          throw new ExpressionError(`unknown function '${token.text}' (known: ${functions.join(', ')})`, token.offset);
        i++;
        const args: ExpressionNode[] = [];
        if (peek()?.text !== ')') {
          args.push(or());
          while (peek()?.text === ',') {
            i++;
            args.push(or());
          }
        }
        expect(')');
        if (args.length !== 2) throw new ExpressionError(`${token.text}() takes 2 arguments, got ${args.length}`, token.offset);
        return { type: 'call', name: token.text as FunctionName, args };
      }
      if (!roots.includes(token.text as RefRoot))
        throw new ExpressionError(`unknown name '${token.text}' (expressions start with ${roots.join('., ')}.)`, token.offset);
      const path: string[] = [];
      while (peek()?.text === '.') {
        i++;
        const part = tokens[i++];
        if (part?.kind !== 'word' && part?.kind !== 'number') throw new ExpressionError(`expected a name after '.'`, part?.offset ?? end());
        path.push(part.text);
      }
      if (path.length === 0) throw new ExpressionError(`'${token.text}' needs a name, e.g. ${token.text}.NAME`, token.offset);
      if (token.text === 'steps' && (path.length !== 3 || path[1] !== 'outputs')) {
        throw new ExpressionError(`step outputs are written steps.ID.outputs.KEY`, token.offset);
      }
      if ((token.text === 'secrets' || token.text === 'env') && path.length !== 1)
        throw new ExpressionError(`${token.text}.NAME takes no further path`, token.offset);
      return { type: 'ref', root: token.text as RefRoot, path, offset: token.offset };
    }
    throw new ExpressionError(`unexpected '${token.text}'`, token.offset);
  };
  const comparison = (): ExpressionNode => {
    const left = primary();
    const op = peek()?.text;
    if (op === '==' || op === '!=') {
      i++;
      return { type: 'binary', op, left, right: primary() };
    }
    return left;
  };
  const and = (): ExpressionNode => {
    let left = comparison();
    while (peek()?.text === '&&') {
      i++;
      left = { type: 'binary', op: '&&', left, right: comparison() };
    }
    return left;
  };
  const or = (): ExpressionNode => {
    let left = and();
    while (peek()?.text === '||') {
      i++;
      left = { type: 'binary', op: '||', left, right: and() };
    }
    return left;
  };
  if (tokens.length === 0) throw new ExpressionError('empty expression', 0);
  const node = or();
  if (i < tokens.length) throw new ExpressionError(`unexpected '${tokens[i]!.text}'`, tokens[i]!.offset);
  return node;
};

/** Every reference in an expression, in source order. */
export const referencesOf = (node: ExpressionNode): Extract<ExpressionNode, { type: 'ref' }>[] => {
  switch (node.type) {
    case 'ref':
      return [node];
    case 'not':
      return referencesOf(node.operand);
    case 'binary':
      return [...referencesOf(node.left), ...referencesOf(node.right)];
    case 'call':
      return node.args.flatMap(referencesOf);
    default:
      return [];
  }
};

/**
 * Every reference in the `${{ … }}` of a value's strings, nested lists and maps included. A broken
 * expression adds none: it is reported where it is resolved.
 */
export const referencesIn = (value: unknown): Extract<ExpressionNode, { type: 'ref' }>[] => {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return [];
    try {
      return findExpressions(value).flatMap((found) => referencesOf(parseExpression(found.source)));
    } catch (error) {
      if (error instanceof ExpressionError) return [];
      throw error;
    }
  }
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(referencesIn);
  return [];
};

const lookup = (node: Extract<ExpressionNode, { type: 'ref' }>, scope: Scope): unknown => {
  const [name, ...rest] = node.path as [string, ...string[]];
  const missing = (what: string) => new ExpressionError(`${what} is not defined`, node.offset);
  switch (node.root) {
    case 'vars': {
      if (!Object.hasOwn(scope.vars, name)) throw missing(`vars.${name}`);
      return rest.reduce<unknown>((value, key) => {
        if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) throw missing(`vars.${node.path.join('.')}`);
        return (value as Record<string, unknown>)[key];
      }, scope.vars[name]);
    }
    case 'secrets':
      if (!Object.hasOwn(scope.secrets, name)) throw missing(`secrets.${name}`);
      return scope.secrets[name];
    case 'env':
      // An unset variable is a mistake to report before the run, not an empty string to run with.
      if (scope.env[name] === undefined) throw new ExpressionError(`env.${name} is not set`, node.offset);
      return scope.env[name];
    case 'steps': {
      const outputs = scope.steps[name]?.outputs;
      if (!outputs || !Object.hasOwn(outputs, rest[1]!)) throw missing(`steps.${node.path.join('.')}`);
      return outputs[rest[1]!];
    }
  }
};

const truthy = (value: unknown): boolean =>
  value !== false && value !== null && value !== undefined && value !== '' && value !== 0 && value !== 'false';

/** Evaluates a parsed expression; an undefined reference is an ExpressionError. */
export const evaluate = (node: ExpressionNode, scope: Scope): unknown => {
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'ref':
      return lookup(node, scope);
    case 'not':
      return !truthy(evaluate(node.operand, scope));
    case 'binary': {
      if (node.op === '&&') return truthy(evaluate(node.left, scope)) && truthy(evaluate(node.right, scope));
      if (node.op === '||') return truthy(evaluate(node.left, scope)) || truthy(evaluate(node.right, scope));
      const equal = String(evaluate(node.left, scope)) === String(evaluate(node.right, scope));
      return node.op === '==' ? equal : !equal;
    }
    case 'call': {
      const [a, b] = node.args.map((arg) => String(evaluate(arg, scope)));
      if (node.name === 'contains') return a!.includes(b!);
      if (node.name === 'startsWith') return a!.startsWith(b!);
      return a!.endsWith(b!);
    }
  }
};

/** Whether a `when` result lets the step run. */
export const isTrue = truthy;

/**
 * Resolves expressions inside a value: a string that is exactly one expression keeps the result's
 * type (so `${{ vars.target }}` can be a mapping); otherwise results are interpolated as text.
 */
export const interpolate = (value: unknown, scope: Scope): unknown => {
  if (typeof value === 'string') {
    const found = findExpressions(value);
    if (found.length === 0) return value;
    const only = found[0]!;
    if (found.length === 1 && only.start === 0 && only.end === value.length) return evaluate(parseExpression(only.source), scope);
    let out = '';
    let last = 0;
    for (const expression of found) {
      const result = evaluate(parseExpression(expression.source), scope);
      out +=
        value.slice(last, expression.start) +
        (typeof result === 'object' && result !== null ? JSON.stringify(result) : String(result ?? ''));
      last = expression.end;
    }
    return out + value.slice(last);
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope)]));
  return value;
};
