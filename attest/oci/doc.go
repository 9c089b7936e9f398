// Package oci finds what an OCI image carries about itself, within fixed bounds: it resolves a
// tag to a manifest digest once, then discovers Sigstore bundles through the OCI 1.1 referrers
// API (or its referrers-tag fallback) and cosign's legacy sha256-<hex>.sig / .att tags.
//
// It is cut apart from verification because everything it reads comes from a registry that
// may be hostile: every fetch is capped in size (and rejected, never truncated, when larger),
// every blob is checked against its digest, candidate counts are capped, and plain HTTP is
// refused except to loopback or explicitly listed registries. Nothing it returns is trusted;
// the attest package verifies it.
package oci
