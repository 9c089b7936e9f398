// Package postgres is the registry.Store for running beyond one machine: any number of
// `vetted serve` replicas share one PostgreSQL database through pgx (pgxpool).
//
// Writes that touch a server's versions first lock that server's row in the servers table
// (an upsert, so the first version creates it), so concurrent publishes of one server —
// from one process or many — serialize, see each other's committed rows, and keep exactly
// one version marked latest. The unique key on (name, version) backs that up. The schema is
// created and upgraded on Open from the numbered migrations embedded from migrations/, under
// a transaction-scoped advisory lock so that replicas starting together apply each once.
package postgres
