-- Servers and their versions. Times are Unix microseconds (UTC).
CREATE TABLE servers (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE versions (
    name           TEXT NOT NULL REFERENCES servers (name),
    version        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('published', 'pending_review', 'rejected', 'quarantined', 'deprecated', 'deleted')),
    server_json    BLOB NOT NULL,
    served         BLOB NOT NULL,
    vetted         BLOB,
    content_digest TEXT NOT NULL,
    published_at   INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    is_latest      INTEGER NOT NULL DEFAULT 0 CHECK (is_latest IN (0, 1)),
    PRIMARY KEY (name, version)
);

-- At most one latest version per server; also the index of LatestOnly listings.
CREATE UNIQUE INDEX versions_one_latest ON versions (name) WHERE is_latest = 1;
CREATE INDEX versions_updated_at ON versions (updated_at);

-- One row: change_seq grows with every write (registry.Store.ChangeSeq).
CREATE TABLE registry_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    change_seq INTEGER NOT NULL
);
INSERT INTO registry_state (id, change_seq) VALUES (1, 0);
