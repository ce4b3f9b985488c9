// The published schemas are written from schemas/source/ by scripts/build-schemas.mjs and committed
// (editors read them from the repository): they must be exactly what the script writes now, and
// every field must carry the editor's documentation.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const published = [
  'runbook.schema.json',
  'environment.schema.json',
  ...readdirSync(join(root, 'schemas/actions'))
    .sort()
    .map((f) => `actions/${f}`),
];

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Every property of a schema, as [where, its schema], through items, $defs and branches. */
const propertiesOf = (node: unknown, where: string): [string, Node][] => {
  if (!isNode(node)) return [];
  const found: [string, Node][] = [];
  for (const [key, child] of Object.entries(node)) {
    if (key === 'properties' && isNode(child))
      for (const [name, sub] of Object.entries(child)) {
        if (isNode(sub)) found.push([`${where}.${name}`, sub]);
        found.push(...propertiesOf(sub, `${where}.${name}`));
      }
    else if (key === '$defs' && isNode(child))
      for (const [name, sub] of Object.entries(child)) found.push(...propertiesOf(sub, `${where}#${name}`));
    else if (key !== 'if' && key !== 'not' && (isNode(child) || Array.isArray(child)))
      for (const sub of Array.isArray(child) ? child : [child]) found.push(...propertiesOf(sub, where));
  }
  return found;
};

describe('the published schemas', () => {
  it('are what scripts/build-schemas.mjs writes from schemas/source/ (run npm run build after editing a source)', () => {
    expect(() => execFileSync(process.execPath, [join(root, 'scripts/build-schemas.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it.each(published)('%s documents every field for editors (description, markdownDescription)', (file) => {
    const schema = JSON.parse(readFileSync(join(root, 'schemas', file), 'utf8')) as Node;
    const undocumented = propertiesOf(schema, file)
      .filter(([, sub]) => sub.$ref === undefined)
      .filter(([, sub]) => typeof sub.description !== 'string' || typeof sub.markdownDescription !== 'string')
      .map(([where]) => where);
    expect(undocumented).toEqual([]);
  });

  it('markdownDescription carries the default and the examples the source gives', () => {
    const scratch = JSON.parse(readFileSync(join(root, 'schemas/actions/postgres.scratch.schema.json'), 'utf8')) as {
      properties: Record<string, Node>;
    };
    expect(scratch.properties.engine!.markdownDescription).toContain('Default: `docker`.');
    expect(scratch.properties.name!.markdownDescription).toContain('Example: `restore-test`.');
  });
});
