-- postgres.restore: a new, empty scratch database (psql variable db), after removing the leftovers
-- of an attempt that was killed: an unfinished scratch copy, or a replaced database (old) whose drop
-- never ran (the renames had already committed, so the database holds the restored data).
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP DATABASE IF EXISTS :"old" WITH (FORCE);
CREATE DATABASE :"db" TEMPLATE template0;
