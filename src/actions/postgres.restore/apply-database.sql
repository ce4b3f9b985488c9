-- postgres.restore: gives the restored scratch database (psql variable db, the current one) the
-- properties the manifest recorded for the source (psql variable properties, its `database`
-- object): owner first (the default ACL follows it), then exactly the source's ACL when it had one
-- of its own, its settings and its roles' settings in it, its comment; \gexec runs each statement
-- built. List-valued settings (search_path…) are stored as a quoted list: each element becomes its
-- own literal, as pg_dump writes them, or the list would be read as one name.
WITH source AS (SELECT :'properties'::jsonb AS p),
settings AS (
  SELECT s->>'role' AS role, split_part(c.setting, '=', 1) AS name, substr(c.setting, strpos(c.setting, '=') + 1) AS value, c.n
  FROM source, jsonb_array_elements(p->'settings') s, jsonb_array_elements_text(s->'settings') WITH ORDINALITY AS c(setting, n)
)
SELECT statement FROM (
  SELECT 1 AS step, 0::bigint AS n, format('ALTER DATABASE %I OWNER TO %I', :'db', p->>'owner') AS statement
  FROM source WHERE p->>'owner' IS NOT NULL
  UNION ALL
  SELECT 2, 0, format('REVOKE ALL ON DATABASE %I FROM PUBLIC, %I', :'db', p->>'owner')
  FROM source WHERE jsonb_typeof(p->'acl') = 'array'
  UNION ALL
  SELECT 3, 0, format('GRANT %s ON DATABASE %I TO %s%s', a->>'privilege', :'db', coalesce(quote_ident(a->>'grantee'), 'PUBLIC'),
    CASE WHEN (a->>'grantable')::boolean THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM source, jsonb_array_elements(CASE WHEN jsonb_typeof(p->'acl') = 'array' THEN p->'acl' ELSE '[]' END) a
  UNION ALL
  SELECT 4, n, format('ALTER %s SET %I TO %s',
    CASE WHEN role IS NULL THEN format('DATABASE %I', :'db') ELSE format('ROLE %I IN DATABASE %I', role, :'db') END, name,
    CASE WHEN lower(name) IN ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'shared_preload_libraries',
                              'local_preload_libraries', 'unix_socket_directories')
      THEN coalesce((SELECT string_agg(quote_literal(CASE WHEN e[1] LIKE '"%' THEN replace(substr(e[1], 2, length(e[1]) - 2), '""', '"') ELSE e[1] END), ', ')
                     FROM regexp_matches(value, '("(?:[^"]|"")*"|[^",\s]+)', 'g') e), '''''')
      ELSE quote_literal(value) END)
  FROM settings
  UNION ALL
  SELECT 5, 0, format('COMMENT ON DATABASE %I IS %L', :'db', p->>'comment')
  FROM source WHERE p->>'comment' IS NOT NULL
) statements
ORDER BY step, n
\gexec
-- Extensions the restore created belong to the restoring user; only a superuser can give them back
-- to their owners (there is no ALTER EXTENSION … OWNER TO), and only those that differ are touched.
-- Anyone else gets one error naming them all.
WITH differing AS (
  SELECT e.extname, pg_get_userbyid(e.extowner) AS owner, x->>'owner' AS wanted
  FROM jsonb_array_elements(:'properties'::jsonb->'extensions') x JOIN pg_extension e ON e.extname = x->>'name'
  WHERE pg_get_userbyid(e.extowner) <> x->>'owner'
)
SELECT format('UPDATE pg_extension SET extowner = (SELECT oid FROM pg_roles WHERE rolname = %L) WHERE extname = %L', wanted, extname)
FROM differing WHERE current_setting('is_superuser') = 'on'
UNION ALL
SELECT format('DO $runbook$ BEGIN RAISE EXCEPTION %L, %L; END $runbook$', '%',
  'extension owners differ from the backup''s (' || string_agg(format('%s: %s, backup %s', extname, owner, wanted), '; ' ORDER BY extname)
  || ') and only a superuser can change an extension''s owner: restore as a superuser')
FROM differing WHERE current_setting('is_superuser') <> 'on'
HAVING count(*) > 0
\gexec
