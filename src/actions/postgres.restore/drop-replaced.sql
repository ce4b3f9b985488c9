-- postgres.restore: drops the database that the restored one replaced (psql variable old).
DROP DATABASE :"old" WITH (FORCE);
