// files.ts for the single executable: the same exports over the files scripts/build-binary.mjs
// embeds (the `runbook-embedded-files` module it generates), and the executable itself as the
// command that runs it again.
// @ts-expect-error — generated at bundle time; it exists only inside the bundle.
import embedded from 'runbook-embedded-files';
import type { LibraryFile } from './files.js';

const files = embedded as Record<string, string>;

const named = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`${path}: not in this executable`);
  return text;
};

export const schemaText = (path: string): string => named(`schemas/${path}`);

export const actionSchemaNames = (): string[] =>
  Object.keys(files)
    .filter((path) => /^schemas\/actions\/[^/]+\.schema\.json$/.test(path))
    .map((path) => path.slice('schemas/actions/'.length))
    .sort();

export const libraryFiles = (): LibraryFile[] =>
  Object.keys(files)
    .filter((path) => path.startsWith('actions/'))
    .map((path) => ({ file: path.slice('actions/'.length), text: files[path]! }));

export const selfCommand = (): string[] => [process.execPath];
