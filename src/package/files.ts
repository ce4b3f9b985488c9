// The files the package reads at run time besides its code — the JSON Schemas (schemas/) and the
// actions' shell library (.sh/.sql/.jq beside the actions) — and the command that runs this
// package again. In a clone and in the npm package they are on disk beside the compiled modules;
// the single executable carries them inside: scripts/build-binary.mjs bundles the CLI with
// embedded.ts in this module's place (the same exports), because a bundle has no import.meta.url
// and no folder of its own.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the actions' shell library: its path below the actions folder, and its text. */
export interface LibraryFile {
  file: string;
  text: string;
}

const schemasFolder = fileURLToPath(new URL('../../schemas/', import.meta.url));
// src/actions under vitest, dist/actions (copied there by scripts/copy-shell.mjs) when built.
const actionsFolder = fileURLToPath(new URL('../actions/', import.meta.url));
const libraryFile = /\.(sh|sql|jq)$/;

/** A schema's text by its path below schemas/, e.g. `runbook.schema.json`, `actions/http.wait.schema.json`. */
export const schemaText = (path: string): string => readFileSync(join(schemasFolder, path), 'utf8');

/** The file names in schemas/actions/, sorted. */
export const actionSchemaNames = (): string[] =>
  readdirSync(join(schemasFolder, 'actions'))
    .filter((name) => name.endsWith('.schema.json'))
    .sort();

const listLibrary = (folder: string): string[] =>
  readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listLibrary(join(folder, entry.name)) : libraryFile.test(entry.name) ? [join(folder, entry.name)] : [],
  );

/** Every file of the actions' shell library below `folder` (default: the package's own). */
export const libraryFiles = (folder = actionsFolder): LibraryFile[] =>
  listLibrary(folder).map((path) => ({ file: relative(folder, path), text: readFileSync(path, 'utf8') }));

/** How a step runs this package again (the `runbook` it finds on PATH): node and the package's bin. */
export const selfCommand = (): string[] => [process.execPath, fileURLToPath(new URL('../../bin/runbook.js', import.meta.url))];
