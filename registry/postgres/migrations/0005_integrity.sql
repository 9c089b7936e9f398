-- Tamper-evident versions (registry.CheckSealed): each version names the audit event that
-- created it. (The head row, audit_head, exists since 0003.)
ALTER TABLE versions ADD COLUMN audit_seq bigint;
UPDATE versions SET audit_seq = (
    SELECT MAX(seq) FROM audit_events
    WHERE subject = versions.name || '@' || versions.version AND type = 'publish.decision');
