// The production shape on a real Docker engine (tools/stack/docker): the shipped backup runbooks with
// the shipped production environment, every container and volume deleted, fresh containers started
// as on a new server, the shipped restore runbooks, and everything compared. Needs root, Debian's
// docker.io and debootstrap (scripts/setup.sh installs them); the first run builds the test image
// (about 2 minutes), later runs take it from the engine or ~/.cache/runbook/images.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { repository } from '../../tools/stack/repository.js';
import { BACKUP_RUNBOOKS, RESTORE_RUNBOOKS, runProductionCycle, type CycleReport } from '../../tools/stack/docker/cycle.js';
import { docker, ensurePostgresImage, startDockerEngine } from '../../tools/stack/docker/engine.js';
import { LABEL, productionStack } from '../../tools/stack/docker/production-stack.js';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresScratch } from '../../src/actions/postgres.scratch/index.js';
import { runStep } from '../backup/shell.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-docker-cycle-'));
const context: ExpandContext = { runbook: 'test', stepId: 'scratch', secrets: [] };

describe('the production shape on a real Docker engine', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('needs root', () => {
    expect(process.getuid?.(), 'the Docker stack tests run as root (dockerd, debootstrap, volume owners)').toBe(0);
  });

  it('never touches a container of the same name that it did not create', async () => {
    const engine = await startDockerEngine(join(root, 'stranger'));
    try {
      const image = await ensurePostgresImage();
      await docker(['create', '--name', 'twenty-db', '--network', 'none', image]);
      try {
        const stack = productionStack({ image, rootDir: engine.rootDir });
        await expect(stack.start({ ready: false })).rejects.toThrow(/twenty-db exists that this harness did not create/);
        await stack.wipe();
        const { stdout } = await docker(['inspect', '--format', `{{.Name}} {{index .Config.Labels "${LABEL}"}}`, 'twenty-db']);
        expect(stdout.trim()).toBe('/twenty-db');
        // postgres.scratch neither replaces nor removes a same-named container it did not start.
        for (const remove of [false, true]) {
          const step = await runStep(postgresScratch.expand({ name: 'twenty-db', image, remove }, context), root);
          expect(step.run.code).not.toBe(0);
          expect(step.run.stderr).toContain('a container named twenty-db exists that is no scratch server of this action; not touching it');
        }
        expect((await docker(['inspect', '--format', '{{.Name}}', 'twenty-db'])).stdout.trim()).toBe('/twenty-db');
      } finally {
        await docker(['rm', '-f', 'twenty-db']);
      }
    } finally {
      await engine.stop();
    }
  }, 600_000);

  let report: CycleReport | undefined;
  it('backup, restore test in a scratch container, wipe, fresh containers, restore: every runbook succeeds', async () => {
    report = await runProductionCycle({ root: join(root, 'cycle'), output: 'pipe' });
    expect(report.runs.map((run) => `${run.runbook} ${run.exit}`)).toEqual(
      [...BACKUP_RUNBOOKS, 'restore-test', ...RESTORE_RUNBOOKS].map((name) => `${name} 0`),
    );
  }, 1_200_000);

  it('brings back tables, sequences, owners, ACLs, settings, roles, extensions, policies, files, modes and repositories exactly', () => {
    expect(report, 'the cycle ran').toBeDefined();
    expect(report!.differences).toEqual([]);
    expect(report!.seeded.repositories).toBe(6);
  });

  it('every manifest the backups wrote is valid under schemas/manifest.schema.json', () => {
    const Ajv2020 = Ajv2020Module.default;
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(
      JSON.parse(readFileSync(join(repository, 'schemas', 'manifest.schema.json'), 'utf8')),
    );
    const manifests = Object.entries(report?.manifests ?? {});
    expect(manifests.map(([path]) => path.split('/').slice(0, 2).join('/')).sort()).toEqual([
      'files/dam',
      'files/gitea',
      'files/storage',
      'git/gitea',
      'postgres/dam-db',
      'postgres/gitea-db',
      'postgres/supabase',
      'postgres/twenty',
    ]);
    for (const [path, manifest] of manifests) expect(validate(manifest) ? [] : [path, validate.errors]).toEqual([]);
  });
});
