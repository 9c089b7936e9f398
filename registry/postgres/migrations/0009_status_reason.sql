-- The public class of why a version left the published state (registry.StatusReason),
-- served to mirrors as the official statusMessage; '' while published or when none.
ALTER TABLE versions ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
