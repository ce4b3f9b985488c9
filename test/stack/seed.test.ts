import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgCluster } from '../../tools/stack/postgres.js';
import { runCommand } from '../../tools/stack/run.js';
import { seedDamDatabase, seedGitea, seedSupabase, seedTwenty, sequenceValues, tableChecksums } from '../../tools/stack/seed.js';

describe('seeding and checksums', () => {
  let root: string;
  let a: PgCluster;
  let b: PgCluster;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stack-seed-'));
    [a, b] = await Promise.all([startPostgres({ root, name: 'a' }), startPostgres({ root, name: 'b' })]);
  });
  afterAll(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
    await rm(root, { recursive: true, force: true });
  });

  it('seeds the Supabase-like database with auth, storage and public schemas', async () => {
    await seedSupabase(a, 0.05);
    const sums = await tableChecksums(a, 'supabase');
    expect(Object.keys(sums).sort()).toEqual([
      'auth.users',
      'public.post_tags',
      'public.posts',
      'public.profiles',
      'public.tags',
      'storage.buckets',
      'storage.objects',
    ]);
    expect(sums['public.posts']?.rows).toBe(40);
    expect(sums['auth.users']?.rows).toBe(13);
    expect(await a.psql("SELECT count(*) FROM auth.users WHERE raw_user_meta_data->>'full_name' = 'Zoë Ångström'", 'supabase')).not.toBe(
      '0\n',
    );
    expect(await a.psql('SELECT sum(posts) FROM public.post_counts', 'supabase')).toBe('40\n');
    expect(await sequenceValues(a, 'supabase')).toEqual({
      'public.invoice_number_seq': 1040,
      'public.posts_id_seq': 40,
      'public.tags_id_seq': 20,
    });
  });

  it('gives identical checksums for the same seed on another cluster, and after pg_dump | pg_restore', async () => {
    await seedSupabase(b, 0.05);
    expect(await tableChecksums(b, 'supabase')).toEqual(await tableChecksums(a, 'supabase'));

    await b.createDatabase('restored');
    await runCommand('bash', [
      '-c',
      `set -o pipefail; pg_dump -Fc -h 127.0.0.1 -p ${a.port} -U postgres supabase | pg_restore -h 127.0.0.1 -p ${b.port} -U postgres -d restored --exit-on-error`,
    ]);
    expect(await tableChecksums(b, 'restored')).toEqual(await tableChecksums(a, 'supabase'));
    expect(await sequenceValues(b, 'restored')).toEqual(await sequenceValues(a, 'supabase'));
  });

  it('changes a checksum when one value changes, and keeps it when only row order changes', async () => {
    const before = await tableChecksums(b, 'restored');
    await b.psql(
      'UPDATE public.tags SET name = name WHERE id = 3; VACUUM FULL public.tags; CLUSTER public.posts USING posts_pkey',
      'restored',
    );
    expect(await tableChecksums(b, 'restored')).toEqual(before);
    await b.psql('UPDATE public.posts SET score = score + 0.0001 WHERE id = 7', 'restored');
    const after = await tableChecksums(b, 'restored');
    expect(after['public.posts']?.rows).toBe(before['public.posts']?.rows);
    expect(after['public.posts']?.checksum).not.toBe(before['public.posts']?.checksum);
    expect(after['public.tags']).toEqual(before['public.tags']);
  });

  it('seeds the CRM, Gitea and DAM databases', async () => {
    await Promise.all([seedTwenty(a, 0.05), seedGitea(b, 0.05)]);
    await seedDamDatabase(a, 0.02);
    expect(Object.keys(await tableChecksums(a, 'twenty')).sort()).toEqual([
      'core.workspaces',
      'public.activities',
      'public.companies',
      'public.opportunities',
      'public.people',
    ]);
    const gitea = await tableChecksums(b, 'gitea');
    expect(Object.keys(gitea).sort()).toEqual(['public.comment', 'public.issue', 'public.repository', 'public.user']);
    expect(gitea['public.issue']?.rows).toBe(25);
    const dam = await tableChecksums(a, 'dam');
    expect(dam['public.renditions']?.rows).toBe(3 * (dam['public.assets']?.rows ?? 0));
  });
});
