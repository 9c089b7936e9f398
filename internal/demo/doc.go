// Package demo builds what `vetted demo` publishes: a loopback OCI registry (go-containerregistry's
// in-process registry), an ephemeral ECDSA signing key, images of the weather MCP server
// (internal/weather) with their SPDX SBOM, and signatures and attestations in cosign's layout
// (simplesigning .sig, DSSE .att), plus a small OSV mirror embedded in the binary (osv/,
// attributed in osv/ATTRIBUTION.md).
//
// It exists so that a first-time user sees every outcome of the real publish pipeline —
// published, rejected for a vulnerability, held for review, rejected for a poisoned tool —
// with one command, no network and no other tools installed. Nothing here decides anything:
// the registry's pipeline does, exactly as it does for cosign-signed images.
package demo
