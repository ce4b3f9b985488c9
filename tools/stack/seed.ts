// Realistic, deterministic data for the four service databases, and the checksums that prove a restore.
import type { PgCluster } from './postgres.js';

/** The services of the stack, each with its own cluster. */
export type ServiceName = 'supabase' | 'twenty' | 'gitea' | 'dam';

/** The database each service's cluster holds its data in. */
export const SERVICE_DATABASES: Readonly<Record<ServiceName, string>> = {
  supabase: 'supabase',
  twenty: 'twenty',
  gitea: 'gitea',
  dam: 'dam',
};

/** `scale` 1 is roughly 1 MB of table data per database; rows grow linearly; every table keeps a few rows at tiny scales. */
const rows = (scale: number, perUnit: number, minimum = 3) => Math.max(minimum, Math.round(perUnit * scale));

/** Fixed epoch and random seed: the same scale gives the same rows (and checksums) on every run. */
const EPOCH = "timestamptz '2024-01-01 00:00:00+00'";

/** Text of about `n` × 33 bytes that does not compress away (hex digests of distinct inputs). */
const bulkText = (expr: string, n: number) => `(SELECT string_agg(md5(${expr} || '/' || j), ' ') FROM generate_series(1, ${n}) AS j)`;

const NAMES = `ARRAY['Zoë Ångström','Jürgen Müller','François Lefèvre','Søren Kierkegård','Łukasz Żółw','José Núñez','Anna O''Brien','李梅']`;
const LOCALS = `ARRAY['zoe','jurgen','francois','soren','lukasz','jose','anna','mei']`;

/** Creates a role unless the cluster has it: roles are cluster-wide, and a cluster may be seeded twice. */
const createRoleSql = (name: string, attributes: string) =>
  `DO $$ BEGIN CREATE ROLE ${name} ${attributes}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;`;

/**
 * Supabase's roles, owners and grants: a dump of a real Supabase database names them in OWNER TO
 * and GRANT statements, so restoring it onto a fresh server (without them) fails unless the restore
 * creates them. Ownership and grants do not change row checksums.
 */
const supabaseRolesSql = `
${createRoleSql('supabase_admin', 'NOLOGIN')}
${createRoleSql('anon', 'NOLOGIN')}
${createRoleSql('authenticated', 'NOLOGIN')}
${createRoleSql('service_role', 'NOLOGIN')}
${createRoleSql('authenticator', 'LOGIN NOINHERIT')}
GRANT anon, authenticated, service_role TO authenticator;
ALTER SCHEMA storage OWNER TO supabase_admin;
ALTER TABLE storage.buckets OWNER TO supabase_admin;
ALTER TABLE storage.objects OWNER TO supabase_admin;
GRANT USAGE ON SCHEMA public, storage TO anon, authenticated, service_role;
GRANT SELECT ON public.posts, public.profiles, public.tags, public.post_tags, public.post_counts TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated;
GRANT ALL ON ALL TABLES IN SCHEMA public, storage TO service_role;
GRANT SELECT ON storage.buckets TO anon, authenticated;
`;

const supabaseSql = (scale: number) => {
  const users = rows(scale, 250);
  const posts = rows(scale, 800);
  const objects = rows(scale, 400);
  return `
SELECT setseed(0.42);
CREATE SCHEMA auth;
CREATE SCHEMA storage;
CREATE TABLE auth.users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  encrypted_password text NOT NULL,
  raw_user_meta_data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  last_sign_in_at timestamptz
);
INSERT INTO auth.users
SELECT md5('user' || i)::uuid,
       (${LOCALS})[1 + i % 8] || '.' || i || '@example.test',
       '$2a$10$' || md5('pw' || i) || substr(md5('salt' || i), 1, 21),
       jsonb_build_object('full_name', (${NAMES})[1 + i % 8], 'plan', (ARRAY['free','pro','team'])[1 + i % 3], 'newsletter', i % 2 = 0),
       ${EPOCH} + i * interval '37 minutes',
       CASE WHEN i % 5 = 0 THEN NULL ELSE ${EPOCH} + (random() * 30000000)::int * interval '1 second' END
FROM generate_series(1, ${users}) AS i;

CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL UNIQUE, public boolean NOT NULL, file_size_limit bigint, created_at timestamptz NOT NULL);
INSERT INTO storage.buckets VALUES
  ('avatars', 'avatars', true, 1048576, ${EPOCH}),
  ('documents', 'documents', false, NULL, ${EPOCH} + interval '1 day'),
  ('public-media', 'public media', true, 52428800, ${EPOCH} + interval '2 days');
CREATE TABLE storage.objects (
  id uuid PRIMARY KEY,
  bucket_id text NOT NULL REFERENCES storage.buckets(id),
  name text NOT NULL,
  owner uuid REFERENCES auth.users(id),
  metadata jsonb,
  created_at timestamptz NOT NULL,
  UNIQUE (bucket_id, name)
);
INSERT INTO storage.objects
SELECT md5('object' || i)::uuid,
       (ARRAY['avatars','documents','public-media'])[1 + i % 3],
       (ARRAY['2024','2025'])[1 + i % 2] || '/' || (${LOCALS})[1 + i % 8] || ' file ' || i || (ARRAY['.png','.pdf','.jpg'])[1 + i % 3],
       CASE WHEN i % 7 = 0 THEN NULL ELSE md5('user' || (1 + i % ${users}))::uuid END,
       jsonb_build_object('size', (random() * 5000000)::int, 'mimetype', (ARRAY['image/png','application/pdf','image/jpeg'])[1 + i % 3], 'eTag', md5('etag' || i), 'cacheControl', 'max-age=3600'),
       ${EPOCH} + i * interval '11 minutes'
FROM generate_series(1, ${objects}) AS i;

CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users(id) ON DELETE CASCADE,
  username text NOT NULL UNIQUE,
  full_name text,
  bio text,
  website text,
  updated_at timestamptz NOT NULL
);
INSERT INTO public.profiles
SELECT md5('user' || i)::uuid, 'user_' || i, (${NAMES})[1 + i % 8],
       CASE WHEN i % 4 = 0 THEN NULL ELSE E'Bio line one\\nline "two"\\twith tab and back\\\\slash, ' || md5('bio' || i) END,
       'https://example.test/~' || i,
       ${EPOCH} + i * interval '1 hour'
FROM generate_series(1, ${users}) AS i;

CREATE TABLE public.tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO public.tags (name) SELECT unnest(ARRAY['news','müsli','c++','naïve','release','backup','postgres','日本','ops','security','design','rust','go','typescript','dns','storage','crm','git','dam','misc']);

CREATE TABLE public.posts (
  id bigserial PRIMARY KEY,
  author_id uuid NOT NULL REFERENCES public.profiles(id),
  title text NOT NULL,
  body text NOT NULL,
  tags text[] NOT NULL,
  attachment bytea,
  score numeric(12,4) NOT NULL,
  rating double precision,
  published boolean NOT NULL,
  published_at timestamptz,
  created_at timestamptz NOT NULL
);
INSERT INTO public.posts (author_id, title, body, tags, attachment, score, rating, published, published_at, created_at)
SELECT md5('user' || (1 + i % ${users}))::uuid,
       'Post ' || i || E' — "quoted", tab\\there',
       ${bulkText("'post' || i", 30)},
       ARRAY[(ARRAY['news','ops','dns'])[1 + i % 3], 'backup'],
       CASE WHEN i % 3 = 0 THEN NULL ELSE decode(md5('a' || i) || md5('b' || i), 'hex') END,
       round((random() * 100000)::numeric, 4),
       CASE WHEN i % 6 = 0 THEN NULL ELSE random() * 5 END,
       i % 4 <> 0,
       CASE WHEN i % 4 <> 0 THEN ${EPOCH} + i * interval '17 minutes' END,
       ${EPOCH} + i * interval '13 minutes'
FROM generate_series(1, ${posts}) AS i;

CREATE TABLE public.post_tags (post_id bigint REFERENCES public.posts(id) ON DELETE CASCADE, tag_id int REFERENCES public.tags(id), PRIMARY KEY (post_id, tag_id));
INSERT INTO public.post_tags SELECT p, 1 + (p * 7 + k) % 20 FROM generate_series(1, ${posts}) AS p, generate_series(0, 1) AS k;

CREATE VIEW public.post_counts AS SELECT author_id, count(*) AS posts, sum(score) AS total_score FROM public.posts GROUP BY author_id;
CREATE SEQUENCE public.invoice_number_seq START 1000;
SELECT setval('public.invoice_number_seq', ${1000 + posts});
${supabaseRolesSql}`;
};

const twentySql = (scale: number) => {
  const companies = rows(scale, 100);
  const people = companies * 4;
  const opportunities = companies * 2;
  const activities = rows(scale, 1000);
  return `
SELECT setseed(0.17);
CREATE SCHEMA core;
CREATE TABLE core.workspaces (id uuid PRIMARY KEY, display_name text NOT NULL, domain text, created_at timestamptz NOT NULL);
INSERT INTO core.workspaces VALUES (md5('ws1')::uuid, 'Acme Ventures', 'acme.example.test', ${EPOCH}), (md5('ws2')::uuid, 'Ökotech GmbH', NULL, ${EPOCH} + interval '3 days');

CREATE TABLE public.companies (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  domain_name text UNIQUE,
  employees integer,
  address jsonb,
  annual_recurring_revenue numeric(16,2),
  ideal_customer_profile boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);
INSERT INTO public.companies
SELECT md5('company' || i)::uuid,
       (ARRAY['Acme','Globex','Initech','Umbrella','Stark','Wayne','Ökotech','Société Générale'])[1 + i % 8] || ' ' || i,
       'company' || i || '.example.test',
       (random() * 5000)::int,
       jsonb_build_object('street', i || ' Main Street', 'city', (ARRAY['Berlin','Paris','Kraków','São Paulo'])[1 + i % 4], 'postcode', lpad((i * 37 % 99999)::text, 5, '0')),
       round((random() * 10000000)::numeric, 2),
       i % 3 = 0,
       ${EPOCH} + i * interval '1 day'
FROM generate_series(1, ${companies}) AS i;

CREATE TABLE public.people (
  id uuid PRIMARY KEY,
  company_id uuid REFERENCES public.companies(id),
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  phone text,
  city text,
  position double precision,
  created_at timestamptz NOT NULL
);
INSERT INTO public.people
SELECT md5('person' || i)::uuid,
       CASE WHEN i % 10 = 0 THEN NULL ELSE md5('company' || (1 + i % ${companies}))::uuid END,
       split_part((${NAMES})[1 + i % 8], ' ', 1),
       coalesce(nullif(split_part((${NAMES})[1 + i % 8], ' ', 2), ''), 'Li'),
       (${LOCALS})[1 + i % 8] || i || '@crm.example.test',
       '+49 30 ' || lpad(i::text, 7, '0'),
       (ARRAY['Berlin','Paris','Kraków','São Paulo'])[1 + i % 4],
       random() * 100,
       ${EPOCH} + i * interval '5 hours'
FROM generate_series(1, ${people}) AS i;

CREATE TABLE public.opportunities (
  id uuid PRIMARY KEY,
  company_id uuid NOT NULL REFERENCES public.companies(id),
  point_of_contact_id uuid REFERENCES public.people(id),
  name text NOT NULL,
  amount_micros bigint,
  currency char(3) NOT NULL,
  stage text NOT NULL CHECK (stage IN ('NEW','SCREENING','MEETING','PROPOSAL','CUSTOMER')),
  close_date date
);
INSERT INTO public.opportunities
SELECT md5('opp' || i)::uuid,
       md5('company' || (1 + i % ${companies}))::uuid,
       md5('person' || (1 + (i * 3) % ${people}))::uuid,
       'Deal ' || i,
       (random() * 1e12)::bigint,
       (ARRAY['EUR','USD','PLN'])[1 + i % 3],
       (ARRAY['NEW','SCREENING','MEETING','PROPOSAL','CUSTOMER'])[1 + i % 5],
       date '2024-01-01' + (i % 700)
FROM generate_series(1, ${opportunities}) AS i;

CREATE TABLE public.activities (
  id bigserial PRIMARY KEY,
  person_id uuid REFERENCES public.people(id) ON DELETE SET NULL,
  type text NOT NULL,
  body text,
  data jsonb NOT NULL,
  happened_at timestamptz NOT NULL
);
INSERT INTO public.activities (person_id, type, body, data, happened_at)
SELECT md5('person' || (1 + i % ${people}))::uuid,
       (ARRAY['call','email','meeting','note'])[1 + i % 4],
       ${bulkText("'activity' || i", 12)},
       jsonb_build_object('duration', (random() * 3600)::int, 'participants', jsonb_build_array(md5('p' || i), md5('q' || i)), 'outcome', (ARRAY['positive','neutral',NULL])[1 + i % 3]),
       ${EPOCH} + i * interval '7 minutes'
FROM generate_series(1, ${activities}) AS i;
`;
};

const giteaSql = (scale: number) => {
  const users = rows(scale, 50);
  const repos = rows(scale, 100);
  const issues = rows(scale, 500);
  const comments = rows(scale, 1500);
  return `
SELECT setseed(0.73);
-- Gitea really names its table "user": a reserved word that dumps and checksums must quote.
CREATE TABLE public."user" (
  id bigserial PRIMARY KEY,
  lower_name text NOT NULL UNIQUE,
  name text NOT NULL UNIQUE,
  full_name text,
  email text NOT NULL,
  passwd text NOT NULL,
  is_admin boolean NOT NULL DEFAULT false,
  created_unix bigint NOT NULL
);
INSERT INTO public."user" (lower_name, name, full_name, email, passwd, is_admin, created_unix)
SELECT 'dev' || i, 'Dev' || i, (${NAMES})[1 + i % 8], 'dev' || i || '@git.example.test', md5('pw' || i) || md5('pw2' || i), i = 1, 1700000000 + i * 3600
FROM generate_series(1, ${users}) AS i;

CREATE TABLE public.repository (
  id bigserial PRIMARY KEY,
  owner_id bigint NOT NULL REFERENCES public."user"(id),
  lower_name text NOT NULL,
  name text NOT NULL,
  description text,
  is_private boolean NOT NULL,
  num_issues integer NOT NULL DEFAULT 0,
  size bigint NOT NULL,
  UNIQUE (owner_id, lower_name)
);
INSERT INTO public.repository (owner_id, lower_name, name, description, is_private, size)
SELECT 1 + i % ${users}, 'repo-' || i, 'Repo-' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'Repository ' || i || ' — ' || md5('repo' || i) END, i % 2 = 0, (random() * 1e9)::bigint
FROM generate_series(1, ${repos}) AS i;

CREATE TABLE public.issue (
  id bigserial PRIMARY KEY,
  repo_id bigint NOT NULL REFERENCES public.repository(id),
  index bigint NOT NULL,
  poster_id bigint NOT NULL REFERENCES public."user"(id),
  name text NOT NULL,
  content text,
  is_closed boolean NOT NULL,
  is_pull boolean NOT NULL,
  created_unix bigint NOT NULL,
  UNIQUE (repo_id, index)
);
INSERT INTO public.issue (repo_id, index, poster_id, name, content, is_closed, is_pull, created_unix)
SELECT 1 + i % ${repos}, 1 + i / ${repos}, 1 + (i * 7) % ${users}, 'Issue ' || i || ': ' || md5('title' || i), ${bulkText("'issue' || i", 8)}, i % 3 = 0, i % 5 = 0, 1700000000 + i * 600
FROM generate_series(0, ${issues - 1}) AS i;
UPDATE public.repository r SET num_issues = c.n FROM (SELECT repo_id, count(*) AS n FROM public.issue GROUP BY repo_id) c WHERE c.repo_id = r.id;

CREATE TABLE public.comment (
  id bigserial PRIMARY KEY,
  issue_id bigint NOT NULL REFERENCES public.issue(id) ON DELETE CASCADE,
  poster_id bigint NOT NULL REFERENCES public."user"(id),
  content text NOT NULL,
  created_unix bigint NOT NULL
);
INSERT INTO public.comment (issue_id, poster_id, content, created_unix)
SELECT 1 + i % ${issues}, 1 + (i * 11) % ${users}, ${bulkText("'comment' || i", 14)}, 1700000000 + i * 60
FROM generate_series(1, ${comments}) AS i;
`;
};

const damSql = (scale: number) => {
  const assets = rows(scale, 1500);
  return `
SELECT setseed(0.31);
CREATE TABLE public.assets (
  id bigserial PRIMARY KEY,
  uuid uuid NOT NULL UNIQUE,
  path text NOT NULL UNIQUE,
  md5 char(32) NOT NULL,
  bytes bigint NOT NULL,
  mime text NOT NULL,
  width integer,
  height integer,
  exif jsonb,
  created_at timestamptz NOT NULL
);
INSERT INTO public.assets (uuid, path, md5, bytes, mime, width, height, exif, created_at)
SELECT md5('asset' || i)::uuid,
       'originals/' || (ARRAY['campaigns','product shots','brand'])[1 + i % 3] || '/' || i || (ARRAY['.jpg','.tif','.png','.pdf'])[1 + i % 4],
       md5('asset-content' || i),
       (random() * 50000000)::bigint,
       (ARRAY['image/jpeg','image/tiff','image/png','application/pdf'])[1 + i % 4],
       CASE WHEN i % 4 = 3 THEN NULL ELSE 800 + i % 4000 END,
       CASE WHEN i % 4 = 3 THEN NULL ELSE 600 + i % 3000 END,
       CASE WHEN i % 4 = 3 THEN NULL ELSE jsonb_build_object('camera', (ARRAY['Canon EOS R5','Nikon Z8','Fujifilm X-T5'])[1 + i % 3], 'iso', 100 * (1 + i % 32), 'exposure', '1/' || (60 + i % 1000), 'gps', jsonb_build_array(round((random() * 180 - 90)::numeric, 6), round((random() * 360 - 180)::numeric, 6))) END,
       ${EPOCH} + i * interval '3 minutes'
FROM generate_series(1, ${assets}) AS i;

CREATE TABLE public.renditions (
  id bigserial PRIMARY KEY,
  asset_id bigint NOT NULL REFERENCES public.assets(id) ON DELETE CASCADE,
  kind text NOT NULL,
  path text NOT NULL,
  bytes integer NOT NULL,
  UNIQUE (asset_id, kind)
);
INSERT INTO public.renditions (asset_id, kind, path, bytes)
SELECT a, k, 'derivatives/' || a || '-' || k || '.jpg', (random() * 200000)::int
FROM generate_series(1, ${assets}) AS a, unnest(ARRAY['thumb','preview','web']) AS k;

CREATE TABLE public.tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO public.tags (name) SELECT 'tag-' || i || (ARRAY['','-été','-ß'])[1 + i % 3] FROM generate_series(1, 30) AS i;
CREATE TABLE public.asset_tags (asset_id bigint REFERENCES public.assets(id) ON DELETE CASCADE, tag_id int REFERENCES public.tags(id), PRIMARY KEY (asset_id, tag_id));
INSERT INTO public.asset_tags SELECT a, 1 + (a * 13 + k) % 30 FROM generate_series(1, ${assets}) AS a, generate_series(0, 1) AS k;
`;
};

const SQL: Record<ServiceName, (scale: number) => string> = { supabase: supabaseSql, twenty: twentySql, gitea: giteaSql, dam: damSql };

/** Wraps a seed script in one transaction so a failure leaves no half-seeded database. */
const seedDatabase = async (cluster: PgCluster, service: ServiceName, scale: number) => {
  const database = SERVICE_DATABASES[service];
  await cluster.createDatabase(database);
  await cluster.psql(`BEGIN;\n${SQL[service](scale)}\nCOMMIT;\nANALYZE;\n`, database);
  return database;
};

/** Creates database `supabase` with schemas `auth`, `storage` and `public` (FKs, a view, a sequence, bytea, jsonb, arrays). `scale` 1 ≈ 1 MB. */
export const seedSupabase = (cluster: PgCluster, scale = 1): Promise<string> => seedDatabase(cluster, 'supabase', scale);

/** Creates database `twenty` (CRM): `core.workspaces`, companies, people, opportunities, activities. `scale` 1 ≈ 1 MB. */
export const seedTwenty = (cluster: PgCluster, scale = 1): Promise<string> => seedDatabase(cluster, 'twenty', scale);

/** Creates database `gitea`: `"user"`, repository, issue, comment. `scale` 1 ≈ 1 MB. */
export const seedGitea = (cluster: PgCluster, scale = 1): Promise<string> => seedDatabase(cluster, 'gitea', scale);

/** Creates database `dam`: assets (md5 strings, exif jsonb), renditions, tags. `scale` 1 ≈ 1 MB. */
export const seedDamDatabase = (cluster: PgCluster, scale = 1): Promise<string> => seedDatabase(cluster, 'dam', scale);

/** Seeds the database of `service` into `cluster`; resolves with the database's name. */
export const seedService = (service: ServiceName, cluster: PgCluster, scale = 1): Promise<string> => seedDatabase(cluster, service, scale);

/** Row count and content checksum of one table. */
export interface TableChecksum {
  rows: number;
  /** md5 over the sorted md5s of the rows' text form: independent of physical row order. */
  checksum: string;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Settings that fix the text form of timestamps and floats, so the checksum is the same in any session. */
const STABLE_TEXT =
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex';";

/** Ordinary user tables of a database, as `schema.table`. */
export const listTables = async (cluster: PgCluster, database: string): Promise<string[]> => {
  const out = await cluster.psql(
    `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition
     ORDER BY 1`,
    database,
  );
  return out.split('\n').filter(Boolean);
};

/**
 * `schema.table → {rows, checksum}` for every user table of `database`. Each row is hashed on its
 * own (so a large table never builds one huge string) and the sorted row hashes are hashed again.
 */
export const tableChecksums = async (cluster: PgCluster, database: string): Promise<Record<string, TableChecksum>> => {
  const tables = await listTables(cluster, database);
  if (!tables.length) return {};
  const selects = tables.map((qualified) => {
    const dot = qualified.indexOf('.');
    const ident = `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`;
    return `SELECT ${quoteLiteral(qualified)}, count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM (SELECT md5(t::text) AS h FROM ${ident} AS t) AS rows`;
  });
  const out = await cluster.psql(`${STABLE_TEXT}\n${selects.join('\nUNION ALL\n')};`, database);
  const result: Record<string, TableChecksum> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [table, count, checksum] = line.split('|');
    if (table && count && checksum) result[table] = { rows: Number(count), checksum };
  }
  return result;
};

/** `schema.table → rows` (exact counts), the shape a backup manifest's `tables` holds. */
export const rowCounts = async (cluster: PgCluster, database: string): Promise<Record<string, number>> =>
  Object.fromEntries(Object.entries(await tableChecksums(cluster, database)).map(([table, { rows }]) => [table, rows]));

/** `schema.sequence → last_value` (null when never used) for every sequence of `database`. */
export const sequenceValues = async (cluster: PgCluster, database: string): Promise<Record<string, number | null>> => {
  const out = await cluster.psql(
    `SELECT schemaname || '.' || sequencename, coalesce(last_value::text, '') FROM pg_sequences ORDER BY 1`,
    database,
  );
  const result: Record<string, number | null> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, value] = line.split('|');
    if (name) result[name] = value ? Number(value) : null;
  }
  return result;
};
