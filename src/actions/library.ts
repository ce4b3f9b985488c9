// The built-in actions' shell library: real .sh files (functions only) and .sql/.jq files beside
// the actions, read once. A step's text calls `rb_*` functions; exec hands bash the definitions
// that text needs, then the text, and plan and docs print those same definitions (docs/design.md).
import { libraryFiles, type LibraryFile } from '../package/files.js';

/** One file of the library as shell that defines functions. */
export interface ShellUnit {
  /** Path relative to the actions folder, e.g. `lib/backup.sh` or `postgres.restore/count-rows.sql`. */
  file: string;
  /** The `rb_*` functions it defines. */
  functions: string[];
  /** Shell text that defines them (a .sh file as it is; a .sql/.jq file wrapped in a function that prints it). */
  text: string;
  /** Files of the library whose functions this one calls. */
  calls: string[];
}

const functionWord = /\brb_[a-z0-9_]+\b/g;
const definition = /^(rb_[a-z0-9_]+)\(\) \{$/gm;

/** The function a .sql or .jq file becomes: `postgres.restore/count-rows.sql` → `rb_sql_count_rows`. */
export const textFunctionName = (file: string): string => {
  const [, stem, extension] = /([^/]+)\.(sql|jq)$/.exec(file)!;
  return `rb_${extension}_${stem!.replace(/[^a-z0-9]+/g, '_')}`;
};

// A .sql or .jq file is printed by a function, so the document and exec carry it as plain text.
const wrapText = (file: string, content: string): string => {
  const name = textFunctionName(file);
  const delimiter = `RUNBOOK_${file.endsWith('.sql') ? 'SQL' : 'JQ'}`;
  if (content.split('\n').includes(delimiter)) throw new Error(`${file}: holds the line ${delimiter}, which ends its heredoc`);
  return `# ${file}\n${name}() {\n  cat <<'${delimiter}'\n${content.replace(/\n*$/, '\n')}${delimiter}\n}\n`;
};

const readUnit = ({ file, text: content }: LibraryFile): Omit<ShellUnit, 'calls'> => {
  if (!file.endsWith('.sh')) return { file, functions: [textFunctionName(file)], text: wrapText(file, content) };
  // The shellcheck directive is for the linter; what a person reads and bash runs starts after it.
  const text = content.replace(/^# shellcheck shell=bash\n/, '').replace(/\n*$/, '\n');
  return { file, functions: [...content.matchAll(definition)].map((m) => m[1]!), text };
};

/** Which file defines each function; a function defined twice is a bug in the library. */
const ownersOf = (units: readonly Omit<ShellUnit, 'calls'>[]): Map<string, string> => {
  const owner = new Map<string, string>();
  for (const unit of units) {
    for (const name of unit.functions) {
      if (owner.has(name)) throw new Error(`shell library: ${name} is defined in ${owner.get(name)} and ${unit.file}`);
      owner.set(name, unit.file);
    }
  }
  return owner;
};

const callsOf = (text: string, owner: ReadonlyMap<string, string>): string[] =>
  [...text.matchAll(functionWord)].flatMap((m) => (owner.has(m[0]) ? [owner.get(m[0])!] : []));

/** The library of these files (default: the package's own, see package/files.ts). */
export const loadLibrary = (files: readonly LibraryFile[] = libraryFiles()): ShellUnit[] => {
  const units = [...files]
    .sort((a, b) => Number(!a.file.startsWith('lib/')) - Number(!b.file.startsWith('lib/')) || a.file.localeCompare(b.file))
    .map(readUnit);
  const owner = ownersOf(units);
  return units.map((unit) => ({
    ...unit,
    calls: [...new Set(callsOf(unit.text, owner))].filter((file) => file !== unit.file),
  }));
};

// Read once per process, with its lookups: exec asks for every step it spawns.
let cached: { units: ShellUnit[]; byFile: Map<string, ShellUnit>; owner: Map<string, string> } | undefined;
const library = () => {
  if (cached) return cached;
  const units = loadLibrary();
  return (cached = { units, byFile: new Map(units.map((unit) => [unit.file, unit])), owner: ownersOf(units) });
};

/** The units a shell text needs (those it calls, and theirs), in library order. */
export const definitionsFor = (texts: string | readonly string[]): ShellUnit[] => {
  const { units, byFile, owner } = library();
  const needed = new Set<string>();
  const visit = (file: string) => {
    if (needed.has(file)) return;
    needed.add(file);
    for (const next of byFile.get(file)!.calls) visit(next);
  };
  for (const text of typeof texts === 'string' ? [texts] : texts) for (const file of callsOf(text, owner)) visit(file);
  return units.filter((unit) => needed.has(unit.file));
};

/** The definitions a text needs, as one block of shell ('' when it calls none). */
export const definitionsText = (texts: string | readonly string[]): string =>
  definitionsFor(texts)
    .map((unit) => unit.text)
    .join('');

/** The exact script bash runs for a step's text: its definitions, then the text. */
export const scriptFor = (text: string): string => definitionsText(text) + text;

/** The names of every function a text can reach, for `export -f` in documents. */
export const functionsFor = (texts: string | readonly string[]): string[] => definitionsFor(texts).flatMap((unit) => unit.functions);
