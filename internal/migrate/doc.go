// Package migrate reads numbered SQL migrations ("0001_init.sql", "0002_evidence.sql", …)
// from an embedded file system, for the storage backends to apply in order.
//
// It only parses and orders: each backend applies the migrations in its own transaction,
// with its own locking, and records them in its schema_migrations table. Adding a table is
// adding the next numbered file beside the others.
package migrate
