-- Exceptions: a reviewer accepting findings of one version (registry.Exception). Written in
-- the transaction that approves or releases the version; ended_* are NULL while it is in
-- effect. Times are Unix microseconds (UTC).
CREATE TABLE exceptions (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    findings     BLOB NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    ended_cause  TEXT,
    ended_actor  TEXT,
    ended_reason TEXT,
    ended_at     INTEGER
);
CREATE INDEX exceptions_version ON exceptions (name, version, created_at);
CREATE INDEX exceptions_due ON exceptions (expires_at) WHERE ended_at IS NULL AND expires_at IS NOT NULL;
