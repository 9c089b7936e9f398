-- The publish pipeline's records (registry.Publication).

-- Each OCI package of a version, resolved and pinned.
CREATE TABLE version_packages (
    name       text COLLATE "C" NOT NULL,
    version    text COLLATE "C" NOT NULL,
    idx        integer NOT NULL,
    identifier text NOT NULL,
    digest     text NOT NULL,
    pinned     text NOT NULL,
    PRIMARY KEY (name, version, idx),
    FOREIGN KEY (name, version) REFERENCES versions (name, version)
);
CREATE INDEX version_packages_digest ON version_packages (digest);

-- Evidence blobs (bundles, statements, SBOMs, reports, tool manifests) by sha256.
CREATE TABLE evidence_blobs (
    digest     text PRIMARY KEY,
    media_type text NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- The evidence a version keeps beside its row (registry.VersionRecord).
CREATE TABLE version_records (
    name                 text COLLATE "C" NOT NULL,
    version              text COLLATE "C" NOT NULL,
    decision             text NOT NULL,
    checks               bytea NOT NULL,
    actor                text NOT NULL,
    decided_at           timestamptz NOT NULL,
    verification         bytea,
    provenance           bytea,
    sbom_packages        bytea,
    scan_snapshot        text,
    scan_report          bytea,
    scan_summary         bytea,
    tool_manifest_digest text,
    tool_manifest        bytea,
    tool_report          bytea,
    vsa                  bytea,
    evidence             bytea,
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES versions (name, version)
);

-- The append-only audit chain (registry.AuditEvent). Appends lock audit_head, so that
-- concurrent writers (also in other processes) extend the chain one at a time.
CREATE TABLE audit_events (
    seq     bigint PRIMARY KEY,
    time    bigint NOT NULL, -- Unix microseconds, as hashed
    type    text NOT NULL,
    actor   text NOT NULL,
    subject text NOT NULL,
    data    bytea NOT NULL,
    prev    text NOT NULL,
    hash    text NOT NULL UNIQUE
);
CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Background jobs (OSV sync, re-scans): which replica holds each, until when.
CREATE TABLE job_claims (
    job        text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL,
    last_done  timestamptz NOT NULL DEFAULT 'epoch'
);
