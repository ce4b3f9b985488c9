-- postgres.restore: 1 when the database named by the psql variable db exists, else 0.
SELECT count(*) FROM pg_database WHERE datname = :'db';
