package main

import (
	"fmt"

	"github.com/vetted-dev/vetted/internal/pypisbom"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
)

// pypiConfig is publish.pypi: how PyPI packages are read and verified.
//
//	pypi:
//	  indexes: [https://pypi.org, http://127.0.0.1:8080]   # registryBaseUrl allow-list; first = default
//	  distributions: all                 # all|any-wheel|sdist: which files of a release are verified
//	  unpinned: review                   # review|reject|allow requirements no shipped lock file pins
//
// The indexes are allowed through the outbound guard at their own host, port and scheme (a
// loopback or private one still needs outbound.allow_networks); hosts the files live on
// (files.pythonhosted.org for pypi.org) must be allowed in `outbound:`.
type pypiConfig struct {
	Indexes       []string `json:"indexes,omitempty"`
	Distributions string   `json:"distributions,omitempty"`
	Unpinned      string   `json:"unpinned,omitempty"`
}

// pypiSBOMGenerator builds the SBOM of PyPI releases and MCP bundles whose publisher
// attested none, with syft as a library (internal/pypisbom).
var pypiSBOMGenerator registry.PyPISBOMGenerator = pypisbom.Generator{}

// configure sets the verifier's PyPI indexes and distributions.
func (c pypiConfig) configure(v *adapt.Verifier) error {
	if len(c.Indexes) > 0 {
		if err := v.SetPyPIIndexes(c.Indexes...); err != nil {
			return usageError(fmt.Errorf("publish.pypi.indexes: %w", err))
		}
	}
	if err := v.SetPyPIDistributions(c.Distributions); err != nil {
		return usageError(fmt.Errorf("publish.pypi.distributions: %w", err))
	}
	return nil
}

// option is the pipeline's PyPI option (an unknown unpinned value fails NewPipeline).
func (c pypiConfig) option() registry.PipelineOption {
	return registry.WithPyPI(registry.PyPIOptions{SBOM: pypiSBOMGenerator, Unpinned: c.Unpinned})
}
