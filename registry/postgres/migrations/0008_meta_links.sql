-- Links to Vetted's extension endpoints are rendered by the API at response time (from the
-- version's name and version), no longer stored in the served _meta: drop the stored copy.
UPDATE versions SET vetted = convert_to(((convert_from(vetted, 'UTF8')::jsonb) - 'links')::text, 'UTF8')
WHERE vetted IS NOT NULL AND position('"links"' in convert_from(vetted, 'UTF8')) > 0
  AND (convert_from(vetted, 'UTF8')::jsonb) ? 'links';
