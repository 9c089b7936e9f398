-- Servers and their versions. Names and versions sort byte-wise (COLLATE "C"), as the
-- keyset cursor of the listing requires and as SQLite does.
CREATE TABLE servers (
    name       text COLLATE "C" PRIMARY KEY,
    created_at timestamptz NOT NULL
);

CREATE TABLE versions (
    name           text COLLATE "C" NOT NULL REFERENCES servers (name),
    version        text COLLATE "C" NOT NULL,
    status         text NOT NULL CHECK (status IN ('published', 'pending_review', 'rejected', 'quarantined', 'deprecated', 'deleted')),
    server_json    bytea NOT NULL,
    served         bytea NOT NULL,
    vetted         bytea,
    content_digest text NOT NULL,
    published_at   timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    is_latest      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (name, version)
);

-- At most one latest version per server; also the index of LatestOnly listings.
CREATE UNIQUE INDEX versions_one_latest ON versions (name) WHERE is_latest;
CREATE INDEX versions_updated_at ON versions (updated_at);

-- One row: change_seq grows with every write (registry.Store.ChangeSeq).
CREATE TABLE registry_state (
    id         integer PRIMARY KEY CHECK (id = 1),
    change_seq bigint NOT NULL
);
INSERT INTO registry_state (id, change_seq) VALUES (1, 0);
