// Package sbom decodes SBOM documents (SPDX 2.2/2.3 JSON and CycloneDX 1.2–1.6 JSON) into the
// flat list of packages that vulnerability matching needs: purl, name, version, ecosystem.
//
// It parses strictly and on its own, by content rather than by file name, because an SBOM is
// untrusted input: non-SBOM JSON, truncated documents, SBOMs without packages, documents too
// large or too deeply nested are errors, never an empty (clean-looking) package list. The
// extracted list is JSON-serializable so that it can be stored and re-scanned later without
// parsing the SBOM again.
package sbom
