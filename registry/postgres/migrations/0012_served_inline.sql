-- Keep what is served in the row (issue 15). A version row is about 3.4 KB before
-- compression: its stored server.json, its served server.json and its verification
-- metadata. Past about 2 KB PostgreSQL compresses and moves values out of the row, by
-- default whichever is largest first, so a read of what is served could need a TOAST
-- lookup for each version. Serving reads never read server_json (ListQuery.Serving), so
-- it goes out first: served and vetted are MAIN (compressed in the row, moved out only as a
-- last resort) and server_json stays EXTENDED. Rows written before this keep their layout
-- until rewritten (VACUUM FULL versions).
ALTER TABLE versions ALTER COLUMN served SET STORAGE MAIN, ALTER COLUMN vetted SET STORAGE MAIN;
