-- VEX documents recorded by reviewers (registry.VEXDocument). Times are Unix microseconds
-- (UTC); withdrawn_* are NULL while the document is in effect.
CREATE TABLE vex_documents (
    id               TEXT PRIMARY KEY,
    digest           TEXT NOT NULL,
    document         BLOB NOT NULL,
    statements       BLOB NOT NULL,
    products         BLOB NOT NULL,
    expires_at       INTEGER,
    actor            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    uploaded_at      INTEGER NOT NULL,
    withdrawn_actor  TEXT,
    withdrawn_reason TEXT,
    withdrawn_at     INTEGER
);
CREATE INDEX vex_documents_uploaded ON vex_documents (uploaded_at, id);
