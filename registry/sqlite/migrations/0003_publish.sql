-- The publish pipeline's records (registry.Publication). Times are Unix microseconds (UTC).

-- Each OCI package of a version, resolved and pinned.
CREATE TABLE version_packages (
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    identifier TEXT NOT NULL,
    digest     TEXT NOT NULL,
    pinned     TEXT NOT NULL,
    PRIMARY KEY (name, version, idx),
    FOREIGN KEY (name, version) REFERENCES versions (name, version)
);
CREATE INDEX version_packages_digest ON version_packages (digest);

-- Evidence blobs (bundles, statements, SBOMs, reports, tool manifests) by sha256.
CREATE TABLE evidence_blobs (
    digest     TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- The evidence a version keeps beside its row (registry.VersionRecord).
CREATE TABLE version_records (
    name                 TEXT NOT NULL,
    version              TEXT NOT NULL,
    decision             TEXT NOT NULL,
    checks               BLOB NOT NULL,
    actor                TEXT NOT NULL,
    decided_at           INTEGER NOT NULL,
    verification         BLOB,
    provenance           BLOB,
    sbom_packages        BLOB,
    scan_snapshot        TEXT,
    scan_report          BLOB,
    scan_summary         BLOB,
    tool_manifest_digest TEXT,
    tool_manifest        BLOB,
    tool_report          BLOB,
    vsa                  BLOB,
    evidence             BLOB,
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES versions (name, version)
);

-- The append-only audit chain (registry.AuditEvent). hash is unique: an event cannot be
-- recorded twice.
CREATE TABLE audit_events (
    seq     INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    type    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    subject TEXT NOT NULL,
    data    BLOB NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL UNIQUE
);

-- Background jobs (OSV sync, re-scans): which replica holds each, until when.
CREATE TABLE job_claims (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    last_done  INTEGER NOT NULL DEFAULT 0
);
