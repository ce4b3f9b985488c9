// The single executable's entry (scripts/build-binary.mjs bundles from here): the CLI, with no
// top-level await, since a Node single executable application runs its main script as CommonJS.
import { main } from './index.js';

void main(process.argv.slice(2));
