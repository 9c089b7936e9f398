-- Indexed search (ListQuery.Search): a pg_trgm GIN index on server names, which ILIKE
-- '%term%' uses (rechecking every candidate, so answers are what the full scan gave).
-- pg_trgm is a trusted extension: a database owner may create it. It goes to the public
-- schema, once per database (replicas and test schemas migrating at once take turns).
SELECT pg_advisory_xact_lock(hashtext('vetted.pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
-- fastupdate off: a new name goes into the index at once, not into a pending list that the
-- planner prices as a scan (after a bulk load it would keep choosing the full scan).
CREATE INDEX servers_name_trgm ON servers USING gin (name public.gin_trgm_ops) WITH (fastupdate = off);
