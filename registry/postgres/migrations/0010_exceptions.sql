-- Exceptions: a reviewer accepting findings of one version (registry.Exception). Written in
-- the transaction that approves or releases the version; ended_* are NULL while it is in
-- effect. Times are Unix microseconds (UTC).
CREATE TABLE exceptions (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    version      text NOT NULL,
    findings     bytea NOT NULL,
    actor        text NOT NULL,
    reason       text NOT NULL,
    created_at   bigint NOT NULL,
    expires_at   bigint,
    ended_cause  text,
    ended_actor  text,
    ended_reason text,
    ended_at     bigint
);
CREATE INDEX exceptions_version ON exceptions (name, version, created_at);
CREATE INDEX exceptions_due ON exceptions (expires_at) WHERE ended_at IS NULL AND expires_at IS NOT NULL;
