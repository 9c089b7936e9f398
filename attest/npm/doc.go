// Package npm is the npm side of Vetted's evidence model: it validates package names and
// exact versions, builds and parses the package URLs (pkg:npm/NAME@VERSION) that npm's
// attestations name as their subject, checks a tarball against the registry's integrity
// string byte for byte, parses the registry's attestations document strictly, carries npm's
// registry signing keys (shipped as configuration, never taken from a bundle), and fetches a
// package's version document, tarball and attestations from an npm registry within fixed
// bounds.
//
// It verifies no signature itself: package attest does that, with the same policy and the
// same sigstore-go verifier as for OCI images. It is cut out of attest so that everything
// specific to how npm lays out packages stays in one place, as attest/oci does for
// registries of images.
package npm
