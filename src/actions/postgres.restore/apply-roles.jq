# postgres.restore: turns pg_dumpall's roles script (roles.sql, on stdin, read with `jq -nRr`) into
# SQL that only adds: every `CREATE ROLE` of a role the server lacks, with that role's `ALTER ROLE …
# WITH` attributes, and the `GRANT role TO member` memberships and `ALTER ROLE … SET` settings of the
# roles it just created. Roles that exist are left as they are (attributes, memberships, settings);
# `GRANTED BY` is dropped because the grantor may be missing; comments and passwords (never stored)
# are not applied. One transaction: all the missing roles or none. It prints the created roles' names.
#
# roles.sql is data from the bucket, which whoever holds the bucket's keys can rewrite: no line of it
# is ever run as it is. Every line must be one pg_dumpall --roles-only writes, else nothing is
# applied (jq's error names the line); what is applied is rebuilt from parts that each match a
# strict pattern (attributes from pg_dumpall's keywords, settings from quoted literals or plain
# words), so no part can end a statement, a dollar quote or start a psql meta-command. A role to be
# created with SUPERUSER, REPLICATION or BYPASSRLS is refused (the transaction fails, nothing is
# created) unless $privileged (the privileged_roles input, a JSON array of names) lists it.
# Role names as pg_dumpall writes them: plain, or in double quotes with "" for a quote.
def ident: "(?:\"(?:[^\"\\\\$]|\"\")*\"|[A-Za-z_][A-Za-z0-9_]*)";
# The attributes pg_dumpall writes after ALTER ROLE … WITH (passwords are never stored).
def attribute: "(?:(?:NO)?(?:SUPERUSER|INHERIT|CREATEROLE|CREATEDB|LOGIN|REPLICATION|BYPASSRLS)|CONNECTION LIMIT -?[0-9]+|VALID UNTIL '[0-9A-Za-z :.+-]*')";
# A setting's value: quoted literals ('' for a quote, no backslash) or plain words, comma-separated.
def value: "(?:'(?:[^'\\\\]|'')*'|[A-Za-z0-9_.+-]+)";
# Lines pg_dumpall writes that are not applied: comments, its session settings, \restrict and
# \unrestrict with their key, comments on roles and security labels.
def ignored: "^(?:|--.*|SET [a-z_]+ = [^;]*;|\\\\(?:un)?restrict [A-Za-z0-9]+|COMMENT ON ROLE .*|SECURITY LABEL FOR .*)$";
def create: "^CREATE ROLE (?<role>" + ident + ");$";
def attributes: "^ALTER ROLE (?<role>" + ident + ") WITH (?<attributes>" + attribute + "(?: " + attribute + ")*);$";
def setting: "^ALTER ROLE (?<role>" + ident + ") SET (?<setting>" + ident + " TO " + value + "(?:, " + value + ")*);$";
def grant: "^GRANT (?<granted>" + ident + ") TO (?<member>" + ident + ")(?<options>(?: WITH [A-Z]+ [A-Z]+(?:, [A-Z]+ [A-Z]+)*)?)(?: GRANTED BY " + ident + ")?;$";
# A written role name as the role's name, and as an SQL string literal.
def name: if startswith("\"") then .[1:-1] | gsub("\"\""; "\"") else . end;
def literal: name | "'" + gsub("'"; "''") + "'";
[inputs] as $lines
| ($lines | to_entries | map(select(.value | test(ignored) or test(create) or test(attributes) or test(setting) or test(grant) | not)))
  as $unknown
| if ($unknown | length) > 0 then
    error("line \($unknown[0].key + 1) of the roles file is not one pg_dumpall --roles-only writes, so no role was created: \($unknown[0].value | .[0:200] | tojson)")
  else . end
| ($lines | map(capture(create).role)) as $roles
| ($lines | map(capture(attributes) | {key: .role, value: .attributes}) | from_entries) as $attributes
| ($lines | map(capture(setting))) as $settings
| ($lines | map(capture(grant))) as $grants
| "BEGIN;",
  "CREATE TEMPORARY TABLE runbook_created_roles (name text) ON COMMIT DROP;",
  # Checking pg_roles first: CREATE ROLE checks its privilege before the name, so a user without
  # CREATEROLE restoring onto a server that has every role must never run it.
  ($roles[]
    | ([($attributes[.] // "") | scan("\\b(?:SUPERUSER|REPLICATION|BYPASSRLS)\\b")] | unique) as $privileges
    | (if ($privileges | length) > 0 and ((name) as $role | $privileged | index([$role]) | not)
       then " RAISE EXCEPTION 'refusing to create role %, which the backup gives %: list it in privileged_roles to allow it', \(literal), '\($privileges | join(", "))';"
       else "" end) as $refusal
    | "DO $runbook$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(literal)) THEN\($refusal) CREATE ROLE \(.);\(if $attributes[.] then " ALTER ROLE \(.) WITH \($attributes[.]);" else "" end) INSERT INTO runbook_created_roles VALUES (\(literal)); END IF; EXCEPTION WHEN duplicate_object THEN NULL; END $runbook$;"),
  ($grants[] | "DO $runbook$ BEGIN IF EXISTS (SELECT FROM runbook_created_roles WHERE name = \(.member | literal)) THEN GRANT \(.granted) TO \(.member)\(.options); END IF; END $runbook$;"),
  # A setting's value stays out of a dollar-quoted body: psql's \if runs it.
  ($settings[] | "SELECT EXISTS (SELECT FROM runbook_created_roles WHERE name = \(.role | literal)) AS runbook_created \\gset", "\\if :runbook_created", "ALTER ROLE \(.role) SET \(.setting);", "\\endif"),
  "SELECT coalesce(string_agg(name, ', ' ORDER BY name COLLATE \"C\"), '') FROM runbook_created_roles;",
  "COMMIT;"
