import { bundledSchema } from '../runbook/validate.js';

/** `runbook schema`: the self-contained JSON Schema, for editors and other tools. */
export const schemaCommand = () => {
  process.stdout.write(JSON.stringify(bundledSchema(), null, 2) + '\n');
};
