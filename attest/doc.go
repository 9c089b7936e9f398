// Package attest verifies what an OCI-packaged MCP server claims about itself: it resolves a tag to a digest, discovers signatures and attestations (OCI 1.1 referrers and cosign's legacy tags) within fixed bounds, verifies each with sigstore-go against a policy, classifies verified in-toto statements by predicate type, and extracts provenance.
//
// It knows nothing of HTTP serving or storage so that it can be used as a library on its own; every check fails closed and names itself when it rejects.
package attest
