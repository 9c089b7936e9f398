package main

import (
	"github.com/vetted-dev/vetted/internal/npmsbom"
	"github.com/vetted-dev/vetted/registry"
)

// npmSBOMGenerator builds, with syft as a library, the SBOM of an npm package whose
// publisher attested none, from the verified tarball (labelled source: registry-generated).
var npmSBOMGenerator registry.NPMSBOMGenerator = npmsbom.Generator{}
