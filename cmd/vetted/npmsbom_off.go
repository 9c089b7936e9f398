package main

import "github.com/vetted-dev/vetted/registry"

// npmSBOMGenerator builds the SBOM of npm packages whose publisher attested none; nil: such
// packages fail the sbom check.
var npmSBOMGenerator registry.NPMSBOMGenerator
