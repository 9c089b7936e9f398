// Package registry is Vetted's domain: servers and their versions, the statuses a version
// moves through, which version is "latest", and the Store interface that the SQLite and
// PostgreSQL backends implement.
//
// It is cut this way so that the rules of the registry (what is served, what is immutable,
// how latest is chosen) live in one place that knows nothing of HTTP or of any database
// driver. Backends live in sub-packages (registry/sqlite, registry/postgres) and import this
// package, never the reverse; registry/storetest is the one conformance suite they all pass.
//
// The publish pipeline (Pipeline) lives here too, as a function of the request and of the
// evidence its seams fetch: the seams (Verifier, Scanner, ToolInspector, Authorizer,
// VSASigner) are small interfaces declared here and satisfied in registry/adapt by attest,
// scan and attest/toolmanifest, so that every decision — with every check and its reason —
// can be re-run and explained, and is recorded in one transaction with its audit event in a
// hash chain (AuditEvent, VerifyChain). Monitor re-scans what is published as the OSV mirror
// moves.
package registry
