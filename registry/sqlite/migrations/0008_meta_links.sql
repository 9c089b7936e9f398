-- Links to Vetted's extension endpoints are rendered by the API at response time (from the
-- version's name and version), no longer stored in the served _meta: drop the stored copy.
UPDATE versions SET vetted = CAST(json_remove(CAST(vetted AS TEXT), '$.links') AS BLOB)
WHERE vetted IS NOT NULL AND json_valid(CAST(vetted AS TEXT))
  AND json_type(CAST(vetted AS TEXT), '$.links') IS NOT NULL;
