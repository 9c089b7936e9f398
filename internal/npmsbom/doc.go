// Package npmsbom builds the SBOM of a verified npm package tarball when its publisher
// supplied none: it unpacks the tarball's manifests (package.json, npm-shrinkwrap.json,
// package-lock.json, bundled node_modules/*/package.json) within fixed bounds and catalogs
// them with syft as a library, then lists the dependencies that only a range names (no
// lockfile shipped), which no SBOM can pin.
//
// It lives apart from scan (which must stay free of syft's cataloging) and from registry
// (which only sees the registry.NPMSBOMGenerator port), so that only the binary and this
// package's tests link syft.
package npmsbom
