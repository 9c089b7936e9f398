-- Trigram counts for search (issue 15): the FTS5 index's own vocabulary, how many names hold
-- each trigram (column doc). A phrase query needs every trigram of its phrase, and the
-- trigrams every name shares ("org", "git", "hub") have doclists as long as the catalogue;
-- with these counts a search asks the index for its term's rarest part only and checks the
-- whole term on the few candidates (registry/sqlite's SearchNarrow). The table reads the
-- index, so it is never stale and needs no trigger.
CREATE VIRTUAL TABLE servers_search_vocab USING fts5vocab(servers_search, row);
