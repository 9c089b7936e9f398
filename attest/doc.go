// Package attest verifies what a packaged MCP server (an OCI image or an npm package) claims
// about itself. Every package type resolves to an Artifact ({type, name, version, locator,
// digests}); evidence is Sigstore bundles or DSSE envelopes bound to one of its digests,
// gathered from the type's own channel (OCI referrers and cosign tags; npm's attestations
// document) or supplied by the publisher, and one verifier judges all of it with one policy.
//
// For OCI it resolves a tag to a digest once, discovers signatures and attestations (OCI 1.1 referrers and cosign's
// legacy tags) within fixed bounds, verifies each with sigstore-go against a policy, classifies
// verified in-toto statements by predicate type, and extracts provenance.
//
// It knows nothing of HTTP serving or storage so that it can be used as a library on its own;
// every check fails closed and names itself when it rejects.
//
// NewVerifier compiles a policy once (keys, trusted roots, identity expressions, npm
// registry keys); Verifier.Verify (OCI), Verifier.VerifyNPM (from a registry) and
// Verifier.VerifyNPMPackage (from local bytes) reuse it. Verify is the one-shot form. Each
// returns a JSON-serializable Result: the verified items
// (kind, signer identity, issuer, log entries, timestamps, predicate type, subject digest),
// the extracted provenance, the verified SBOM / provenance / tool-manifest predicates, every
// rejected candidate with the check that rejected it, and the failed checks. The pieces are
// cut by concept:
//
//   - attest/policy: the YAML policy, parsed strictly;
//   - attest/oci: resolution and bounded discovery on untrusted registries;
//   - attest/npm: npm names, exact versions, package URLs, integrity, registry keys, the
//     attestations document, bounded fetches from npm registries;
//   - attest/intoto: strict parsers for statements, predicates and simplesigning payloads;
//   - attest/trustroot: the shipped public-good trusted root, TUF refresh, private roots;
//   - attest/sigtest: an in-process Sigstore and registry for tests.
//
// Nothing found in a registry counts until it verifies: annotations are hints only, a
// statement counts for its verified predicateType only, and every item must be bound to the
// resolved digest (the statement subject, the simplesigning docker-manifest-digest, or the
// message digest).
package attest
