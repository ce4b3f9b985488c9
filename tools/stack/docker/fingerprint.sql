-- Everything of one database (and its cluster's roles) that a restore must bring back, as one JSON
-- object: each table's rows (count and the md5 of its rows in order), sequences, owners and ACLs of
-- the database, schemas, relations and functions, database-level settings, roles (attributes,
-- memberships, settings; passwords are never in a backup), extensions and their owner, policies,
-- event triggers, publications, default privileges and comments. Run as a superuser; it creates nothing.
WITH
  relations AS (
    SELECT n.nspname, c.relname, c.relkind, c.oid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  )
SELECT json_build_object(
  'tables', (SELECT coalesce(json_object_agg(name, value ORDER BY name), '{}') FROM (
      SELECT r.nspname || '.' || r.relname AS name,
             (xpath('/row/v/text()', query_to_xml(format(
               'SELECT count(*) || '' '' || md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) AS v FROM %I.%I t',
               r.nspname, r.relname), false, true, '')))[1]::text AS value
      FROM relations r WHERE r.relkind IN ('r', 'p')) t),
  'sequences', (SELECT coalesce(json_object_agg(schemaname || '.' || sequencename, last_value ORDER BY schemaname, sequencename), '{}') FROM pg_sequences),
  'database', (SELECT json_build_object('owner', pg_get_userbyid(datdba), 'acl', datacl::text, 'encoding', pg_encoding_to_char(encoding),
      'collate', datcollate, 'ctype', datctype, 'comment', shobj_description(oid, 'pg_database'),
      'settings', (SELECT json_agg(json_build_object('role', CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole) END, 'config', s.setconfig) ORDER BY s.setrole)
                   FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
    FROM pg_database d WHERE datname = current_database()),
  'schemas', (SELECT json_agg(json_build_object('name', nspname, 'owner', pg_get_userbyid(nspowner), 'acl', nspacl::text,
      'comment', obj_description(oid, 'pg_namespace')) ORDER BY nspname)
    FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_)'),
  'relations', (SELECT json_agg(json_build_object('name', r.nspname || '.' || r.relname, 'kind', r.relkind, 'owner', pg_get_userbyid(c.relowner),
      'acl', c.relacl::text, 'rls', c.relrowsecurity, 'force_rls', c.relforcerowsecurity, 'comment', obj_description(c.oid, 'pg_class')) ORDER BY r.nspname, r.relname)
    FROM relations r JOIN pg_class c ON c.oid = r.oid WHERE r.relkind <> 'i'),
  'functions', (SELECT json_agg(json_build_object('name', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
      'owner', pg_get_userbyid(p.proowner), 'acl', p.proacl::text, 'security_definer', p.prosecdef, 'definition', md5(pg_get_functiondef(p.oid)))
      ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT FROM pg_depend dep WHERE dep.objid = p.oid AND dep.deptype = 'e')),
  'extensions', (SELECT json_agg(json_build_object('name', extname, 'owner', pg_get_userbyid(extowner), 'schema', extnamespace::regnamespace::text,
      'version', extversion) ORDER BY extname) FROM pg_extension),
  'policies', (SELECT json_agg(p ORDER BY p.schemaname, p.tablename, p.policyname) FROM pg_policies p),
  'event_triggers', (SELECT json_agg(json_build_object('name', evtname, 'event', evtevent, 'owner', pg_get_userbyid(evtowner),
      'function', evtfoid::regprocedure::text, 'enabled', evtenabled, 'tags', evttags) ORDER BY evtname) FROM pg_event_trigger),
  'publications', (SELECT json_agg(json_build_object('name', p.pubname, 'owner', pg_get_userbyid(p.pubowner), 'all_tables', p.puballtables,
      'tables', (SELECT json_agg(t.schemaname || '.' || t.tablename ORDER BY t.schemaname, t.tablename) FROM pg_publication_tables t WHERE t.pubname = p.pubname))
      ORDER BY p.pubname) FROM pg_publication p),
  'default_privileges', (SELECT json_agg(json_build_object('role', pg_get_userbyid(defaclrole), 'schema', coalesce(defaclnamespace::regnamespace::text, ''),
      'type', defaclobjtype, 'acl', defaclacl::text) ORDER BY pg_get_userbyid(defaclrole), defaclnamespace::regnamespace::text, defaclobjtype)
    FROM pg_default_acl),
  'roles', (SELECT json_agg(json_build_object('name', r.rolname, 'super', r.rolsuper, 'inherit', r.rolinherit, 'createrole', r.rolcreaterole,
      'createdb', r.rolcreatedb, 'login', r.rolcanlogin, 'replication', r.rolreplication, 'bypassrls', r.rolbypassrls,
      'connlimit', r.rolconnlimit, 'valid_until', r.rolvaliduntil,
      'member_of', (SELECT json_agg(json_build_object('role', pg_get_userbyid(m.roleid), 'admin', m.admin_option) ORDER BY pg_get_userbyid(m.roleid))
                    FROM pg_auth_members m WHERE m.member = r.oid),
      'settings', (SELECT json_agg(s.setconfig ORDER BY s.setdatabase) FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0))
      ORDER BY r.rolname)
    FROM pg_roles r WHERE r.rolname !~ '^pg_')
);
