-- Curation from upstream registries (registry/mirror): where each upstream's incremental
-- sync stands, and what was done with each upstream version.
CREATE TABLE mirror_checkpoints (
    upstream   text PRIMARY KEY,
    high_water timestamptz NOT NULL DEFAULT 'epoch',
    cursor     text NOT NULL DEFAULT '',
    pass_max   timestamptz NOT NULL DEFAULT 'epoch',
    report     bytea,
    updated_at timestamptz NOT NULL
);
CREATE TABLE mirror_entries (
    upstream            text NOT NULL,
    name                text NOT NULL,
    version             text NOT NULL,
    content_digest      text NOT NULL,
    upstream_updated_at timestamptz NOT NULL,
    outcome             text NOT NULL,
    at                  timestamptz NOT NULL,
    PRIMARY KEY (upstream, name, version)
);
