-- What an application writes into its own database on an official-postgres-image container, as
-- the role POSTGRES_USER made (the bootstrap superuser, owner of the database): an extension, its
-- schemas, tables with sequences, a view, a function, a database-level setting and a grant to a
-- read-only role. :rows sets the scale; :app names the application.
\set readonly :app _readonly
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE ROLE :"readonly" NOLOGIN;
ALTER ROLE :"readonly" SET statement_timeout = '30s';
CREATE SCHEMA core;
CREATE SCHEMA metadata;
CREATE TABLE core.workspace (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE core.record (
  id bigserial PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES core.workspace (id),
  title text NOT NULL,
  body text,
  amount numeric(12, 2),
  tags text[],
  payload jsonb,
  deleted_at timestamptz
);
CREATE TABLE metadata.event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_id bigint REFERENCES core.record (id),
  kind text NOT NULL,
  at timestamptz NOT NULL
);
CREATE VIEW core.live_record AS SELECT * FROM core.record WHERE deleted_at IS NULL;
CREATE FUNCTION core.touch(record bigint) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO metadata.event (record_id, kind, at) VALUES (record, 'touch', now()) $$;
INSERT INTO core.workspace (id, name, created_at)
SELECT uuid_generate_v5(uuid_ns_url(), :'app' || '-workspace-' || i), 'Workspace ' || i, timestamptz '2024-06-01' + i * interval '1 day'
FROM generate_series(1, 20) i;
INSERT INTO core.record (workspace_id, title, body, amount, tags, payload, deleted_at)
SELECT uuid_generate_v5(uuid_ns_url(), :'app' || '-workspace-' || (1 + i % 20)), 'Record ' || i, repeat('lorem ipsum ', i % 17),
       (i * 37 % 100000) / 100.0, ARRAY['tag' || (i % 7), 'tag' || (i % 11)], jsonb_build_object('i', i, 'even', i % 2 = 0),
       CASE WHEN i % 50 = 0 THEN timestamptz '2025-05-01' END
FROM generate_series(1, :rows) i;
INSERT INTO metadata.event (record_id, kind, at)
SELECT 1 + i % :rows, (ARRAY['created', 'updated', 'viewed'])[1 + i % 3], timestamptz '2025-01-01' + i * interval '1 minute'
FROM generate_series(1, :rows / 2) i;
GRANT USAGE ON SCHEMA core TO :"readonly";
GRANT SELECT ON ALL TABLES IN SCHEMA core TO :"readonly";
SELECT format('ALTER DATABASE %I SET work_mem = %L', current_database(), '16MB') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'readonly') \gexec
