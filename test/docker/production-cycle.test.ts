// The production shape on a real Docker engine (tools/stack/docker), started from its configuration
// repository: the shipped backup runbooks with the stack's shipped environment (demo-docker.yaml,
// production.yaml's shape), the disaster - every container, volume, the configuration checkout and
// the mirrors deleted, nothing left but the bucket and the keys - then `runbook drill
// runbooks/recover-full.yaml`, killed with SIGKILL halfway and resumed, and once more RECOVERY.md
// followed by hand; each time every application answers, DNS points at the server and everything compares. Needs root, Debian's
// docker.io and debootstrap (scripts/setup.sh installs them); the first run builds the test image
// (about 2 minutes), later runs take it from the engine or ~/.cache/runbook/images.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { repository } from '../../tools/stack/repository.js';
import { parse } from 'yaml';
import { BACKUP_RUNBOOKS, runProductionCycle, type CycleReport } from '../../tools/stack/docker/cycle.js';
import { checkHealth } from '../../tools/stack/docker/production-stack.js';
import { docker, ensurePostgresImage, startDockerEngine } from '../../tools/stack/docker/engine.js';
import { LABEL, productionStack, type ProductionStack } from '../../tools/stack/docker/production-stack.js';
import type { ExpandContext } from '../../src/actions/action.js';
import { postgresScratch } from '../../src/actions/postgres.scratch/index.js';
import { runStep } from '../backup/shell.js';
import { readJournal } from '../../src/engine/journal.js';

const root = mkdtempSync(join(tmpdir(), 'runbook-docker-cycle-'));
// The DNS server of the cycle runs as the user bind, below this folder.
chmodSync(root, 0o755);
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
        const stack = productionStack({ image, rootDir: engine.rootDir, root: join(root, 'stranger-server') });
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

  it("its environment is production.yaml with this machine's endpoints: the same containers, users, volumes and services", () => {
    const read = (name: string) =>
      parse(readFileSync(join(repository, 'runbooks', 'environments', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
    const production = read('production');
    const local = read('demo-docker');
    const shape = [
      ...['supabase_db', 'supabase_database', 'twenty_db', 'gitea_db', 'dam_db'],
      ...['gitea_repositories', 'gitea_data', 'storage_dir', 'dam_dir', 'backup_remote', 'use_docker'],
      ...['config_repository', 'runbook_repository', 'secret_files', 'database_services'],
    ];
    for (const key of shape) expect(local[key], key).toEqual(production[key]);
    expect(Object.keys(local).sort()).toEqual(
      Object.keys(production)
        .filter((key) => key !== 'protected')
        .sort(),
    );
  });

  const probes: string[] = [];
  /** The stand-ins answer 200 only while their data is there: a table renamed away or a file gone turns them 503. */
  const probeStandIns = async (stack: ProductionStack) => {
    const urls = stack.healthUrls();
    const record = async (what: string) =>
      probes.push(`${what}: ${(await checkHealth(urls['twenty-server']!)).ok} ${(await checkHealth(urls.dam!)).ok}`);
    const crm = (sql: string) => docker(['exec', 'twenty-db', 'psql', '-X', '-q', '-U', 'twenty', '-d', 'twenty', '-c', sql]);
    await record('seeded');
    await crm('ALTER TABLE core.record RENAME TO record_gone');
    await record('a CRM table gone');
    await crm('ALTER TABLE core.record_gone RENAME TO record');
    const originals = join(stack.volumePath('dam_data'), 'originals');
    const file = readdirSync(originals, { recursive: true, withFileTypes: true }).find((entry) => entry.isFile())!;
    const path = join(file.parentPath, file.name);
    // Out of the originals, on the same file system (rename cannot cross to the test's folder).
    const held = join(stack.volumePath('dam_data'), 'held-back');
    renameSync(path, held);
    await record('a DAM original gone');
    renameSync(held, path);
    await record('both back');
  };

  // One cycle proves the straight path and the resume at once (a cycle is about three minutes):
  // everything before the kill ran straight, everything after it in the resumed drill.
  let report: CycleReport | undefined;
  it('backups, the restore test, the disaster, then recover-full from the bucket alone, killed with SIGKILL in the Gitea database restore and resumed: every runbook succeeds', async () => {
    report = await runProductionCycle({
      root: join(root, 'cycle'),
      output: 'pipe',
      afterSeed: probeStandIns,
      killAt: 'restore-gitea-db.restore',
    });
    expect(report.runs.map((run) => `${run.runbook} ${run.exit}`)).toEqual([
      ...[...BACKUP_RUNBOOKS, 'restore-test'].map((name) => `${name} 0`),
      'recover-full (killed) 137',
      'recover-full 0',
    ]);
  }, 1_200_000);

  it('the application stand-ins are honest: they fail without their tables or files', () => {
    expect(probes).toEqual([
      'seeded: true true',
      'a CRM table gone: false true',
      'a DAM original gone: true false',
      'both back: true true',
    ]);
  });

  it('brings back tables, sequences, owners, ACLs, settings, roles, extensions, policies, files, modes, repositories and the secrets exactly', () => {
    expect(report, 'the cycle ran').toBeDefined();
    expect(report!.differences).toEqual([]);
    expect(report!.seeded.repositories).toBe(6);
  });

  it('every application answers and DNS points at the new server', () => {
    expect(Object.entries(report?.health ?? {}).filter(([, health]) => !health.ok)).toEqual([]);
    expect(Object.keys(report?.health ?? {}).sort()).toEqual(['dam', 'gitea', 'supabase-rest', 'twenty-server']);
    expect(report?.dns).toEqual({ supabase: ['127.0.0.1'], crm: ['127.0.0.1'], git: ['127.0.0.1'], dam: ['127.0.0.1'] });
  });

  it("the drill report states the recovery time against the runbook's RTO of 2h", () => {
    expect(report?.report).toMatch(/recover-full/);
    expect(report?.report).toMatch(/RTO/);
    expect(report?.report).toMatch(/2h|2 h|120 min/);
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
      'git/config',
      'git/gitea',
      'postgres/dam-db',
      'postgres/gitea-db',
      'postgres/supabase',
      'postgres/twenty',
      'secrets/stack',
    ]);
    for (const [path, manifest] of manifests) expect(validate(manifest) ? [] : [path, validate.errors]).toEqual([]);
  });

  it('the kill landed inside the Gitea database restore, and drill --resume did not restore Supabase again', () => {
    expect(report?.killed?.groups.length).toBeGreaterThan(0);
    const journal = readJournal(join(report!.runDir, 'journal.jsonl')).records;
    const second = journal.slice(journal.findIndex((r, i) => i > 0 && r.type === 'run-start'));
    expect(second.some((r) => r.type === 'step-start' && r.id === 'restore-supabase.restore')).toBe(false);
    expect(second.some((r) => r.type === 'step-done' && r.id === 'restore-gitea-db.restore')).toBe(true);
    expect(second.at(-1)).toMatchObject({ type: 'run-end', outcome: 'success' });
  });

  it('RECOVERY.md followed by hand, from its bootstrap on: the same end state', async () => {
    const followed = await runProductionCycle({
      root: join(root, 'by-hand'),
      rows: 5_000,
      restoreTest: false,
      output: 'pipe',
      byHand: true,
    });
    expect(followed.runs.at(-1)).toMatchObject({ runbook: 'recover-full (by hand)', exit: 0 });
    // Docker is here already: the document's install step runs and installs nothing; nothing is skipped.
    expect(followed.byHand?.skipped).toEqual([]);
    expect(followed.byHand?.output).toMatch(/is at [0-9a-f]{40}/);
    expect(followed.differences).toEqual([]);
    expect(Object.entries(followed.health).filter(([, health]) => !health.ok)).toEqual([]);
    expect(followed.dns).toEqual({ supabase: ['127.0.0.1'], crm: ['127.0.0.1'], git: ['127.0.0.1'], dam: ['127.0.0.1'] });
  }, 1_200_000);
});
