-- Trigram statistics for search (issue 15): how many server names hold each pg_trgm
-- trigram, and under the empty trigram how many names there are. pg_trgm's GIN index needs
-- every trigram of a pattern, and for the trigrams every name shares ("org", "git", "hub")
-- it reads long posting lists; with these counts a search asks the index for its term's
-- rarest part only and checks the whole term on the few candidates (sqlstore's
-- SearchNarrow). The counts only choose that part: a stale count makes a search slower,
-- never wrong.
CREATE TABLE search_trigrams (
    trigram text COLLATE "C" PRIMARY KEY,
    n       bigint NOT NULL
);

-- Statement-level triggers with transition tables: one aggregate upsert per statement,
-- so a bulk load of 100,000 names costs one grouped insert, not 2,000,000 row updates. Rows
-- are upserted in trigram order, so that concurrent creators lock them in one order.
-- Server names never change (the upsert in LockServers writes the same name), so UPDATE
-- has no trigger. The functions keep the search_path they were created with (Vetted's
-- schema), so that a statement from a session with another search_path maintains them too.
CREATE FUNCTION search_trigrams_add() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO search_trigrams (trigram, n)
    SELECT t, count(*) FROM (
        SELECT unnest(public.show_trgm(name)) AS t FROM added
        UNION ALL SELECT '' FROM added
    ) g GROUP BY t ORDER BY t
    ON CONFLICT (trigram) DO UPDATE SET n = search_trigrams.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE FUNCTION search_trigrams_remove() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE search_trigrams s SET n = s.n - g.n FROM (
        SELECT t, count(*) AS n FROM (
            SELECT unnest(public.show_trgm(name)) AS t FROM removed
            UNION ALL SELECT '' FROM removed
        ) x GROUP BY t
    ) g WHERE s.trigram = g.t;
    RETURN NULL;
END $$;

CREATE TRIGGER servers_search_trigrams_insert AFTER INSERT ON servers
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION search_trigrams_add();
CREATE TRIGGER servers_search_trigrams_delete AFTER DELETE ON servers
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION search_trigrams_remove();

-- The names already stored.
INSERT INTO search_trigrams (trigram, n)
SELECT t, count(*) FROM (
    SELECT unnest(public.show_trgm(name)) AS t FROM servers
    UNION ALL SELECT '' FROM servers
) g GROUP BY t;
