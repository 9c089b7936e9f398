package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/policy"
)

// pypiVerifyOutput is verify --json for pypi: one result per artifact.
type pypiVerifyOutput struct {
	Ref     string           `json:"ref"`
	Passed  bool             `json:"passed"`
	Results []*attest.Result `json:"results"`
}

func runVerifyPyPI(e *env, spec, policyFile, sourceRepo string, asJSON bool, f *npmVerifyFlags) error {
	name, version, ok := strings.Cut(spec, "@")
	if !ok || name == "" || version == "" {
		return usageErrorf("verify: pypi:%s: want pypi:NAME@VERSION", spec)
	}
	if f.tarball != "" || f.registry != "" || f.keys != "" || len(f.evidence) > 0 {
		return usageErrorf("verify: --tarball, --npm-registry, --npm-keys and --evidence are for npm:NAME@VERSION")
	}
	if len(f.artifacts) == 0 {
		return usageErrorf("verify: pypi:%s: --artifact FILE is required (resolution from an index is not implemented)", spec)
	}
	if len(f.attestations) != len(f.artifacts) {
		return usageErrorf("verify: pypi: %d --artifact but %d --attestations: give one attestations document per artifact, in order", len(f.artifacts), len(f.attestations))
	}
	pol, err := policy.ParseFile(policyFile)
	if err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	v, err := attest.NewVerifier(pol)
	if err != nil {
		if errors.Is(err, policy.ErrInvalid) {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		return fmt.Errorf("verify: %w", err)
	}
	var call []attest.CallOption
	if sourceRepo != "" {
		call = append(call, attest.ForSourceRepository(sourceRepo))
	}
	ref := "pypi:" + spec
	out := pypiVerifyOutput{Ref: ref, Passed: true}
	for i, file := range f.artifacts {
		data, err := readBounded("--artifact", file)
		if err != nil {
			return err
		}
		doc, err := readBounded("--attestations", f.attestations[i])
		if err != nil {
			return err
		}
		d := &attest.PyPIDistribution{Project: name, Version: version, Filename: filepath.Base(file), Data: data}
		if isProvenanceObject(doc) {
			d.Provenance = doc
		} else {
			d.Attestations = [][]byte{doc}
		}
		res, err := v.VerifyPyPIDistribution(d, call...)
		if err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		out.Results = append(out.Results, res)
		out.Passed = out.Passed && res.Passed
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	var failed []string
	for i, res := range out.Results {
		if !asJSON {
			fmt.Fprint(e.stdout, res.Summary())
		}
		if !res.Passed {
			failed = append(failed, filepath.Base(f.artifacts[i])+": "+strings.Join(res.FailedChecks(), ", "))
		}
	}
	if !out.Passed {
		fmt.Fprintf(e.stderr, "verify: %s failed: %s\n", ref, strings.Join(failed, "; "))
		return checkFailedSilently()
	}
	return nil
}

// isProvenanceObject tells PyPI's provenance object from a single attestation by its
// top-level key; either is then parsed strictly.
func isProvenanceObject(doc []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(doc, &probe) != nil {
		return false
	}
	_, ok := probe["attestation_bundles"]
	return ok
}
