// Package vsa is the registry vouching for what it verified: a SLSA Verification Summary
// Attestation (in-toto statement v1, predicate https://slsa.dev/verification_summary/v1)
// over a published version's image digests and tool-manifest digest, signed as a DSSE
// envelope with the registry's own ECDSA P-256 key.
//
// It is cut out of attest's verification code because it signs rather than verifies, holds a
// private key, and is small enough for clients (`vetted resolve --verify`) to use alone:
// Sign on the registry, Verify anywhere with the public key the registry serves.
package vsa
