// Package pypi reads PyPI's PEP 740 attestation documents strictly and within bounds: a
// single attestation ({"version":1,"verification_material":…,"envelope":…}) or the
// provenance object PyPI's Integrity API serves ({"version":1,"attestation_bundles":[…]}),
// converts each attestation to a Sigstore bundle that package attest verifies like any
// other, and compares project names after PEP 503 normalization. Its Client reads a release
// from a PEP 691 (JSON) or PEP 503 (HTML) simple index through the transport it is given —
// the exact version's files, bounded and checked against the index's sha256, and each
// file's provenance object from the Integrity API. It does no cryptography: verification
// stays in attest, on the one per-policy verifier.
package pypi
