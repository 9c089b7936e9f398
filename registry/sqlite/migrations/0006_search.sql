-- Indexed search (ListQuery.Search): an FTS5 trigram index of server names, kept by
-- triggers. It only narrows the candidates; the exact condition (LIKE, ASCII letters
-- case-insensitive) still decides, so answers are what the full scan gave. Terms shorter
-- than three characters have no trigram and scan.
CREATE VIRTUAL TABLE servers_search USING fts5(name, content='servers', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER servers_search_insert AFTER INSERT ON servers BEGIN
    INSERT INTO servers_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER servers_search_delete AFTER DELETE ON servers BEGIN
    INSERT INTO servers_search (servers_search, rowid, name) VALUES ('delete', old.rowid, old.name);
END;
CREATE TRIGGER servers_search_update AFTER UPDATE OF name ON servers BEGIN
    INSERT INTO servers_search (servers_search, rowid, name) VALUES ('delete', old.rowid, old.name);
    INSERT INTO servers_search (rowid, name) VALUES (new.rowid, new.name);
END;
INSERT INTO servers_search (servers_search) VALUES ('rebuild');
