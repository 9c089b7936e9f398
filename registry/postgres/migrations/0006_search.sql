-- Indexed search (ListQuery.Search): a pg_trgm GIN index on server names, which ILIKE
-- '%term%' uses (rechecking every candidate, so answers are what the full scan gave).
-- pg_trgm is a trusted extension: a database owner may create it. It goes to the public
-- schema, once per database (replicas and test schemas migrating at once take turns).
SELECT pg_advisory_xact_lock(hashtext('vetted.pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX servers_name_trgm ON servers USING gin (name public.gin_trgm_ops);
