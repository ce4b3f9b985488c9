// The production cycle's comparison finds each kind of difference a restore can leave; an empty list
// from it means something only because of these.
import { describe, expect, it } from 'vitest';
import { compareProductionSnapshots, type ProductionSnapshot } from '../../tools/stack/docker/production-stack.js';

const snapshot = (): ProductionSnapshot => ({
  databases: {
    'supabase-db': {
      tables: { 'auth.users': '100 abc', 'public.todos': '200 def' },
      sequences: { 'public.todos_id_seq': 200 },
      database: { owner: 'supabase_admin', settings: [{ role: '', config: ['app.settings.jwt_exp=3600'] }] },
      roles: [{ name: 'anon', login: false, settings: [['statement_timeout=3s']] }],
      extensions: [{ name: 'pgcrypto', owner: 'supabase_admin' }],
      policies: [{ policyname: 'own todos' }],
    },
  },
  config: { commit: 'c0ffee', secrets: { '.env': '600 abc' } },
  volumes: { supabase_storage: { 'a/': 'dir 999:999 0750', 'a/f': 'file 999:999 0640 3 hash' } },
  repositories: { 'alice/web.git': { refs: 'refs/heads/main 1', head: 'refs/heads/main' } },
});

const differencesAfter = (change: (after: ProductionSnapshot) => void): string[] => {
  const after = snapshot();
  change(after);
  return compareProductionSnapshots(snapshot(), after);
};

describe('compareProductionSnapshots', () => {
  it('finds nothing between equal snapshots', () => {
    expect(compareProductionSnapshots(snapshot(), snapshot())).toEqual([]);
  });

  it.each([
    [
      'a table’s rows',
      (s: ProductionSnapshot) => ((s.databases['supabase-db']!.tables as Record<string, string>)['auth.users'] = '100 xyz'),
      /table auth.users/,
    ],
    [
      'a missing table',
      (s: ProductionSnapshot) => delete (s.databases['supabase-db']!.tables as Record<string, string>)['public.todos'],
      /public.todos/,
    ],
    ['a sequence', (s: ProductionSnapshot) => (s.databases['supabase-db']!.sequences = { 'public.todos_id_seq': 1 }), /sequences/],
    [
      'the database owner',
      (s: ProductionSnapshot) => ((s.databases['supabase-db']!.database as { owner: string }).owner = 'postgres'),
      /database/,
    ],
    [
      'a role setting',
      (s: ProductionSnapshot) => (s.databases['supabase-db']!.roles = [{ name: 'anon', login: false, settings: null }]),
      /roles: lost/,
    ],
    [
      'an extension owner',
      (s: ProductionSnapshot) => (s.databases['supabase-db']!.extensions = [{ name: 'pgcrypto', owner: 'postgres' }]),
      /extensions/,
    ],
    ['a policy', (s: ProductionSnapshot) => (s.databases['supabase-db']!.policies = []), /policies: lost/],
    [
      'a file mode',
      (s: ProductionSnapshot) => (s.volumes.supabase_storage!['a/f'] = 'file 999:999 0644 3 hash'),
      /volume supabase_storage a\/f/,
    ],
    ['a folder owner', (s: ProductionSnapshot) => (s.volumes.supabase_storage!['a/'] = 'dir 0:0 0750'), /volume supabase_storage a\//],
    ['a missing repository', (s: ProductionSnapshot) => (s.repositories = {}), /repository alice\/web.git/],
    ['a ref', (s: ProductionSnapshot) => (s.repositories['alice/web.git']!.refs = 'refs/heads/main 2'), /repository alice\/web.git/],
    ['a secret file', (s: ProductionSnapshot) => (s.config.secrets['.env'] = '644 abc'), /configuration secrets/],
    ['the configuration commit', (s: ProductionSnapshot) => (s.config.commit = 'other'), /configuration commit/],
    ['a whole database', (s: ProductionSnapshot) => delete s.databases['supabase-db'], /supabase-db/],
  ])('finds %s', (_what, change, pattern) => {
    const differences = differencesAfter(change);
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.join('\n')).toMatch(pattern);
  });
});
