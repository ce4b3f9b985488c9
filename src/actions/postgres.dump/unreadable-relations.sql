-- postgres.dump: one JSON line {count, first} of the tables and sequences the current user cannot
-- read (no SELECT, or no USAGE on its schema) and the first five of them; none for a superuser. The
-- tables are the ones count-rows.sql counts, the sequences those pg_dump reads (not an extension's):
-- pg_dump would stop at the first with "permission denied" and a misleading error after it.
SELECT json_build_object('count', count(*), 'first', coalesce((array_agg(name ORDER BY name))[1:5], '{}'))
FROM (
  SELECT n.nspname || '.' || c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE (c.relkind IN ('r', 'p')
         OR c.relkind = 'S' AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
    AND current_setting('is_superuser') <> 'on'
) unreadable;
