// Package registry is Vetted's domain: servers and their versions, the statuses a version
// moves through, which version is "latest", and the Store interface that the SQLite and
// PostgreSQL backends implement.
//
// It is cut this way so that the rules of the registry (what is served, what is immutable,
// how latest is chosen) live in one place that knows nothing of HTTP or of any database
// driver. Backends live in sub-packages (registry/sqlite, registry/postgres) and import this
// package, never the reverse; registry/storetest is the one conformance suite they all pass.
package registry
