-- One JSON line with the properties of the current database that live outside it, which a dump of
-- its contents does not carry: its owner, its ACL (null: the defaults; PUBLIC is grantee null), its
-- own settings and its roles' settings in it (role null: ALTER DATABASE … SET), its comment, and every
-- extension's owner, schema and version. Ordered, so two equal databases print equal lines.
SELECT json_build_object(
  'owner', pg_get_userbyid(d.datdba),
  'acl', CASE WHEN d.datacl IS NOT NULL THEN (
    SELECT coalesce(json_agg(json_build_object(
        'grantee', CASE WHEN a.grantee <> 0 THEN pg_get_userbyid(a.grantee) END,
        'privilege', a.privilege_type, 'grantable', a.is_grantable, 'grantor', pg_get_userbyid(a.grantor))
      ORDER BY a.grantee <> 0, CASE WHEN a.grantee <> 0 THEN pg_get_userbyid(a.grantee) END COLLATE "C", a.privilege_type), '[]')
    FROM aclexplode(d.datacl) a) END,
  'settings', (
    SELECT coalesce(json_agg(json_build_object(
        'role', CASE WHEN s.setrole <> 0 THEN pg_get_userbyid(s.setrole) END, 'settings', s.setconfig)
      ORDER BY s.setrole <> 0, CASE WHEN s.setrole <> 0 THEN pg_get_userbyid(s.setrole) END COLLATE "C"), '[]')
    FROM pg_db_role_setting s WHERE s.setdatabase = d.oid),
  'comment', shobj_description(d.oid, 'pg_database'),
  'extensions', (
    SELECT coalesce(json_agg(json_build_object(
        'name', e.extname, 'owner', pg_get_userbyid(e.extowner), 'schema', e.extnamespace::regnamespace, 'version', e.extversion)
      ORDER BY e.extname COLLATE "C"), '[]')
    FROM pg_extension e))
FROM pg_database d
WHERE d.datname = current_database();
