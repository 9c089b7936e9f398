-- VEX documents recorded by reviewers (registry.VEXDocument). Times are Unix microseconds
-- (UTC); withdrawn_* are NULL while the document is in effect.
CREATE TABLE vex_documents (
    id               text PRIMARY KEY,
    digest           text NOT NULL,
    document         bytea NOT NULL,
    statements       bytea NOT NULL,
    products         bytea NOT NULL,
    expires_at       bigint,
    actor            text NOT NULL,
    reason           text NOT NULL,
    uploaded_at      bigint NOT NULL,
    withdrawn_actor  text,
    withdrawn_reason text,
    withdrawn_at     bigint
);
CREATE INDEX vex_documents_uploaded ON vex_documents (uploaded_at, id);
