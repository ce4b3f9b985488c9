-- postgres.restore: the restored scratch database (psql variable scratch) becomes db; when db
-- exists (exists is 1) it is renamed to old first. Both renames run in one transaction: if either
-- fails (a client reconnected to db in between), nothing is renamed. Clients that reconnect while
-- it runs wait for its lock on db, then find their database renamed and reconnect to the new one.
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid();
BEGIN;
\if :exists
ALTER DATABASE :"db" RENAME TO :"old";
\endif
ALTER DATABASE :"scratch" RENAME TO :"db";
COMMIT;
