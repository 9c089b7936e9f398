// Package sqlite is the embedded default registry.Store, on SQLite through the pure-Go
// driver modernc.org/sqlite: one file in the data directory, nothing else to run.
//
// The database runs in WAL mode with one writer connection (every write is a BEGIN
// IMMEDIATE transaction, so writes serialize without SQLITE_BUSY surprises) and a pool of
// read-only connections with cached prepared statements, so reads never wait for writes.
// The schema is created and upgraded on Open from the numbered migrations embedded from
// migrations/, recorded in schema_migrations.
package sqlite
