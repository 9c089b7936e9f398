package adapt

import (
	"context"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/pypi"
	"github.com/vetted-dev/vetted/registry"
)

// SetPyPIIndexes replaces the indexes a server.json may name as registryBaseUrl for a PyPI
// package (default: only https://pypi.org). The first is the default for packages that
// name none.
func (v *Verifier) SetPyPIIndexes(urls ...string) error {
	var out []string
	for _, u := range urls {
		n, err := pypi.IndexRoot(u)
		if err != nil {
			return fmt.Errorf("adapt: pypi index %q: %w", u, err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return fmt.Errorf("adapt: at least one pypi index is required")
	}
	v.pypiIndexes = out
	return nil
}

// SetPyPIDistributions sets which files of a release are verified: "all" (default),
// "any-wheel" or "sdist".
func (v *Verifier) SetPyPIDistributions(d string) error {
	if !attest.ValidPyPIDistributions(d) {
		return fmt.Errorf("adapt: pypi distributions %q is not all, any-wheel or sdist", d)
	}
	v.pypiDists = d
	return nil
}

func (v *Verifier) pypiIndex(base string) (string, error) {
	allowed := v.pypiIndexes
	if len(allowed) == 0 {
		allowed = []string{pypi.DefaultIndex}
	}
	if base == "" {
		return allowed[0], nil
	}
	n, err := pypi.IndexRoot(base)
	if err != nil {
		return "", fmt.Errorf("registryBaseUrl %q: %v", base, err)
	}
	for _, a := range allowed {
		if a == n {
			return n, nil
		}
	}
	return "", fmt.Errorf("registryBaseUrl %s is not a PyPI index this registry reads (publish.pypi.indexes: %s)", base, strings.Join(allowed, ", "))
}

// verifyPyPI verifies a PyPI release: every selected file from the index, its PEP 740
// provenance and the publisher's evidence, with the namespace's verifier.
func (v *Verifier) verifyPyPI(ctx context.Context, av *attest.Verifier, req registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	if req.Version == "" {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: "a PyPI package needs its exact version (packages[].version)"}
	}
	if err := pypi.ValidateName(req.Reference); err != nil {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	if err := pypi.ValidateVersion(req.Version); err != nil {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	index, err := v.pypiIndex(req.RegistryBaseURL)
	if err != nil {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	var opts []attest.CallOption
	if req.RepositoryURL != "" {
		opts = append(opts, attest.ForSourceRepository(req.RepositoryURL))
	}
	for i, b := range req.Evidence {
		opts = append(opts, attest.WithEvidence(attest.SuppliedEvidence{Name: fmt.Sprintf("evidence[%d]", i), Bundle: b}))
	}
	rel, err := av.VerifyPyPI(ctx, attest.PyPIRequest{Index: index, Project: req.Reference, Version: req.Version, Distributions: v.pypiDists}, opts...)
	if err != nil {
		return nil, err
	}
	res := rel.Result
	if res.Artifact == nil {
		reason := "the release could not be resolved"
		if len(res.Failures) > 0 {
			reason = res.Failures[0].Reason
		}
		return nil, &registry.CheckError{Check: registry.CheckResolve, Reason: reason}
	}
	vp, err := convertResult(res)
	if err != nil {
		return nil, err
	}
	npmChecks(vp, res, av.Policy().SignersFor(string(attest.KindSignature)))
	vp.Digest = res.Digest
	vp.Pinned = req.Reference + "==" + req.Version
	vp.PyPI = &registry.PyPIPin{Name: req.Reference, Version: req.Version, IndexURL: res.Repository}
	for _, f := range rel.Files {
		vp.PyPI.Files = append(vp.PyPI.Files, registry.PyPIFilePin{Filename: f.Filename, SHA256: "sha256:" + f.SHA256, URL: f.URL, Data: f.Data})
	}
	if res.SBOM != nil {
		vp.PyPI.SBOMSource = "attestation"
	}
	return vp, nil
}
