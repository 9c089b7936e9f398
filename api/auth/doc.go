// Package auth decides who is calling Vetted and what they may do.
//
// Authentication accepts only bearer JWTs that were issued for this registry: from a
// configured issuer (compared exactly), with this registry's audience, unexpired, signed
// with RS256, ES256 or EdDSA by a key from the issuer's JWKS (discovered, cached, refreshed
// on an unknown key id at a bounded rate). Parsing and signature checks are go-jose's; the
// embedded issuer (Vetted signing tokens for itself with a key in its data directory) is
// verified by exactly the same code, with a static key set instead of a fetched one.
//
// Authorization is deny by default: a Principal holds roles (reader, publisher, reviewer,
// admin) and the namespace patterns it may publish, derived from token claims by the
// configured mappings and publisher rules, and Authorize checks one permission on one
// resource, returning a *DeniedError that names what is missing.
//
// The HTTP side (Service.Middleware) turns those decisions into RFC 9457 problems — 401 with
// a WWW-Authenticate challenge pointing at the RFC 9728 protected resource metadata, 403
// naming the missing permission, 413, 429 with Retry-After — and audit-logs every failure
// and denial with identity, route and reason, never token contents.
//
// It lives below api (api imports it, never the reverse) so that it can be tested on a plain
// net/http mux and used by any handler.
package auth
