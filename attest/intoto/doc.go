// Package intoto parses the untrusted bytes that signatures cover: in-toto statements (v0.1
// and v1), the predicates Vetted understands (SPDX, CycloneDX, SLSA provenance v0.2 and v1,
// cosign's sign/v1, Vetted's tool manifest) and cosign's simplesigning payload.
//
// It is cut apart from verification so that every parser of attacker-controlled JSON sits in
// one small place with strict rules (no duplicate keys, bounded depth and size, JSON where JSON
// is due) and its own fuzz targets. Nothing here checks a signature: callers parse only bytes
// that sigstore-go has verified, or reject early.
package intoto
