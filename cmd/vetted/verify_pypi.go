package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/attest/pypi"
)

// pkgVerifyFlags are verify's PyPI and MCPB flags.
type pkgVerifyFlags struct {
	index         string
	distributions string
	sha256        string
}

func (f *pkgVerifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.index, "pypi-index", "", "pypi: index to resolve the release from (default "+pypi.DefaultIndex+"; without --artifact)")
	fl.StringVar(&f.distributions, "distributions", "", "pypi: which files of the release to verify from the index: all (default), any-wheel or sdist")
	fl.StringVar(&f.sha256, "sha256", "", "mcpb: the bundle's fileSha256 (required)")
}

func (f *pkgVerifyFlags) used() bool { return f.index != "" || f.distributions != "" || f.sha256 != "" }

// pypiVerifyOutput is verify --json for pypi: the release's result and each file's.
type pypiVerifyOutput struct {
	Ref     string           `json:"ref"`
	Passed  bool             `json:"passed"`
	Release *attest.Result   `json:"release"`
	Files   []pypiFileOutput `json:"files"`
}

type pypiFileOutput struct {
	attest.PyPIFile
	Result *attest.Result `json:"result"`
}

func verifierFor(policyFile string, opts ...attest.Option) (*attest.Verifier, error) {
	pol, err := policy.ParseFile(policyFile)
	if err != nil {
		return nil, usageError(fmt.Errorf("verify: %w", err))
	}
	v, err := attest.NewVerifier(pol, opts...)
	if err != nil {
		if errors.Is(err, policy.ErrInvalid) {
			return nil, usageError(fmt.Errorf("verify: %w", err))
		}
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v, nil
}

func suppliedEvidence(files []string) ([]attest.CallOption, error) {
	var call []attest.CallOption
	for _, name := range files {
		b, err := readBounded("--evidence", name)
		if err != nil {
			return nil, err
		}
		call = append(call, attest.WithEvidence(attest.SuppliedEvidence{Name: filepath.Base(name), Bundle: b}))
	}
	return call, nil
}

func runVerifyPyPI(cmd *cobra.Command, e *env, spec, policyFile, sourceRepo string, asJSON bool, f *npmVerifyFlags, pf *pkgVerifyFlags) error {
	name, version, ok := strings.Cut(spec, "@")
	if !ok || name == "" || version == "" {
		return usageErrorf("verify: pypi:%s: want pypi:NAME@VERSION", spec)
	}
	if f.tarball != "" || f.registry != "" || f.keys != "" || pf.sha256 != "" {
		return usageErrorf("verify: --tarball, --npm-registry, --npm-keys and --sha256 are not for pypi:NAME@VERSION")
	}
	if err := pypi.ValidateName(name); err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	if err := pypi.ValidateVersion(version); err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	offline := len(f.artifacts) > 0
	if offline && (pf.index != "" || pf.distributions != "") {
		return usageErrorf("verify: --pypi-index and --distributions resolve from an index; --artifact verifies local files")
	}
	if !offline && len(f.attestations) > 0 {
		return usageErrorf("verify: --attestations go with --artifact (one per artifact, in order)")
	}
	if offline && len(f.attestations) != 0 && len(f.attestations) != len(f.artifacts) {
		return usageErrorf("verify: pypi: %d --artifact but %d --attestations: give one attestations document per artifact, in order", len(f.artifacts), len(f.attestations))
	}
	if !attest.ValidPyPIDistributions(pf.distributions) {
		return usageErrorf("verify: --distributions %q: want all, any-wheel or sdist", pf.distributions)
	}
	call, err := suppliedEvidence(f.evidence)
	if err != nil {
		return err
	}
	if sourceRepo != "" {
		call = append(call, attest.ForSourceRepository(sourceRepo))
	}
	ref := "pypi:" + spec
	var rel *attest.PyPIRelease
	if offline {
		v, err := verifierFor(policyFile)
		if err != nil {
			return err
		}
		dists, err := pypiLocalDistributions(name, version, f)
		if err != nil {
			return err
		}
		if rel, err = v.VerifyPyPIFiles(dists, call...); err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
	} else {
		index := pf.index
		if index == "" {
			index = pypi.DefaultIndex
		}
		guard, err := cliGuard(e, "", nil, []string{index})
		if err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		v, err := verifierFor(policyFile, attest.WithTransport(guard.RoundTripper()))
		if err != nil {
			return err
		}
		rel, err = v.VerifyPyPI(cmd.Context(), attest.PyPIRequest{Index: index, Project: name, Version: version, Distributions: pf.distributions}, call...)
		if errors.Is(err, attest.ErrPyPISpec) {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	return printPyPIResult(e, ref, rel, asJSON)
}

// pypiLocalDistributions reads the --artifact files and their --attestations.
func pypiLocalDistributions(name, version string, f *npmVerifyFlags) ([]*attest.PyPIDistribution, error) {
	var dists []*attest.PyPIDistribution
	for i, file := range f.artifacts {
		data, err := readBounded("--artifact", file)
		if err != nil {
			return nil, err
		}
		d := &attest.PyPIDistribution{Project: name, Version: version, Filename: filepath.Base(file), Data: data}
		if len(f.attestations) > 0 {
			doc, err := readBounded("--attestations", f.attestations[i])
			if err != nil {
				return nil, err
			}
			if isProvenanceObject(doc) {
				d.Provenance = doc
			} else {
				d.Attestations = [][]byte{doc}
			}
		}
		dists = append(dists, d)
	}
	return dists, nil
}

// printPyPIResult prints a release's verification (text or JSON) and fails when it failed,
// naming the failed checks per file and of the release.
func printPyPIResult(e *env, ref string, rel *attest.PyPIRelease, asJSON bool) error {
	out := pypiVerifyOutput{Ref: ref, Passed: rel.Result.Passed, Release: rel.Result}
	for _, fl := range rel.Files {
		out.Files = append(out.Files, pypiFileOutput{PyPIFile: fl, Result: fl.Result})
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, rel.Result.Summary())
		for _, fl := range rel.Files {
			fmt.Fprintf(e.stdout, "  file %s sha256:%s\n", fl.Filename, fl.SHA256)
		}
	}
	if !out.Passed {
		var failed []string
		prefixes := map[string]bool{}
		for _, fl := range rel.Files {
			prefixes[fl.Filename+": "] = true
			if fl.Result != nil && !fl.Result.Passed {
				failed = append(failed, fl.Filename+": "+strings.Join(fl.Result.FailedChecks(), ", "))
			}
		}
		var release []string
		for _, fa := range rel.Result.Failures {
			if i := strings.Index(fa.Reason, ": "); i < 0 || !prefixes[fa.Reason[:i+2]] {
				release = append(release, fa.Check)
			}
		}
		if len(release) > 0 {
			failed = append(failed, "release: "+strings.Join(release, ", "))
		}
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
