// Package sqlstore is the registry's storage written once for two SQL dialects: every query,
// row scanner and transaction of the registry.Backend contract lives here, on database/sql,
// and a Dialect value holds the little that truly differs between SQLite and PostgreSQL
// (placeholders, time encoding, row locks, retryable errors, bulk inserts, the search index).
//
// registry/sqlite and registry/postgres are thin: they open their database, set up their
// connection pools, apply their own migrations and hand sqlstore their dialect. A new table
// is therefore written once, in a migration per backend and in the queries here.
package sqlstore
