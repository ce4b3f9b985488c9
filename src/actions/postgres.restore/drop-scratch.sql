-- postgres.restore: drops the scratch database (psql variable db) of a restore that failed.
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
