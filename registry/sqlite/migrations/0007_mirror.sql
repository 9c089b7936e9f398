-- Curation from upstream registries (registry/mirror): where each upstream's incremental
-- sync stands, and what was done with each upstream version.
CREATE TABLE mirror_checkpoints (
    upstream   TEXT PRIMARY KEY,
    high_water INTEGER NOT NULL DEFAULT 0,
    cursor     TEXT NOT NULL DEFAULT '',
    pass_max   INTEGER NOT NULL DEFAULT 0,
    report     BLOB,
    updated_at INTEGER NOT NULL
);
CREATE TABLE mirror_entries (
    upstream            TEXT NOT NULL,
    name                TEXT NOT NULL,
    version             TEXT NOT NULL,
    content_digest      TEXT NOT NULL,
    upstream_updated_at INTEGER NOT NULL,
    outcome             TEXT NOT NULL,
    at                  INTEGER NOT NULL,
    PRIMARY KEY (upstream, name, version)
);
