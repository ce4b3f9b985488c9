# postgres.restore: turns pg_dumpall's roles script (roles.sql, on stdin, read with `jq -nRr`) into
# SQL that only adds: every `CREATE ROLE` of a role the server lacks, with that role's `ALTER ROLE …
# WITH` attributes, and the `GRANT role TO member` memberships and `ALTER ROLE … SET` settings of the
# roles it just created. Roles that exist are left as they are (attributes, memberships, settings);
# `GRANTED BY` is dropped because the grantor may be missing; comments and passwords (never stored)
# are not applied. One transaction: all the missing roles or none. It prints the created roles' names.
# Role names as pg_dumpall writes them: plain, or in double quotes with "" for a quote.
def ident: "(?:\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z0-9_$]*)";
# A written role name as an SQL string literal.
def literal: (if startswith("\"") then .[1:-1] | gsub("\"\""; "\"") else . end) | "'" + gsub("'"; "''") + "'";
[inputs] as $lines
| ($lines | map(capture("^CREATE ROLE (?<role>" + ident + ");$").role)) as $roles
| ($lines | map(capture("^ALTER ROLE (?<role>" + ident + ") WITH (?<attributes>[^;]*);$") | {key: .role, value: .attributes}) | from_entries) as $attributes
| ($lines | map(capture("^ALTER ROLE (?<role>" + ident + ") SET (?<setting>.*);$"))) as $settings
| ($lines | map(capture("^GRANT (?<granted>" + ident + ") TO (?<member>" + ident + ")(?<options>( WITH [^;]*?)?)( GRANTED BY " + ident + ")?;$"))) as $grants
| "BEGIN;",
  "CREATE TEMPORARY TABLE runbook_created_roles (name text) ON COMMIT DROP;",
  # Checking pg_roles first: CREATE ROLE checks its privilege before the name, so a user without
  # CREATEROLE restoring onto a server that has every role must never run it.
  ($roles[] | "DO $runbook$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(literal)) THEN CREATE ROLE \(.);\(if $attributes[.] then " ALTER ROLE \(.) WITH \($attributes[.]);" else "" end) INSERT INTO runbook_created_roles VALUES (\(literal)); END IF; EXCEPTION WHEN duplicate_object THEN NULL; END $runbook$;"),
  ($grants[] | "DO $runbook$ BEGIN IF EXISTS (SELECT FROM runbook_created_roles WHERE name = \(.member | literal)) THEN GRANT \(.granted) TO \(.member)\(.options); END IF; END $runbook$;"),
  # A setting's value is any text, so it stays out of a dollar-quoted body: psql's \if runs it.
  ($settings[] | "SELECT EXISTS (SELECT FROM runbook_created_roles WHERE name = \(.role | literal)) AS runbook_created \\gset", "\\if :runbook_created", "ALTER ROLE \(.role) SET \(.setting);", "\\endif"),
  "SELECT coalesce(string_agg(name, ', ' ORDER BY name COLLATE \"C\"), '') FROM runbook_created_roles;",
  "COMMIT;"
