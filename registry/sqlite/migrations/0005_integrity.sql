-- Tamper-evident versions (registry.CheckSealed): each version names the audit event that
-- created it, and the chain's head is kept in a row of its own, updated with every append,
-- so that events deleted from the end of the chain are detected.
ALTER TABLE versions ADD COLUMN audit_seq INTEGER;
UPDATE versions SET audit_seq = (
    SELECT MAX(seq) FROM audit_events
    WHERE subject = versions.name || '@' || versions.version AND type = 'publish.decision');

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), '') FROM audit_events;
