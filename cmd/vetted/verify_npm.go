package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/policy"
)

// npmVerifyFlags are verify's npm-only flags.
type npmVerifyFlags struct {
	registry     string
	tarball      string
	attestations []string
	artifacts    []string
	evidence     []string
	keys         string
}

func (f *npmVerifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.registry, "npm-registry", "", "npm registry base URL (default "+npm.DefaultRegistry+")")
	fl.StringVar(&f.tarball, "tarball", "", "verify this package tarball offline (with --attestations)")
	fl.StringArrayVar(&f.attestations, "attestations", nil, "npm: the registry's attestations document (offline, with --tarball); pypi: the provenance object or PEP 740 attestation of each --artifact, in order")
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "pypi: a distribution file (wheel or sdist) to verify offline (repeatable, each with its --attestations)")
	fl.StringArrayVar(&f.evidence, "evidence", nil, "publisher-supplied Sigstore bundle over the tarball (repeatable)")
	fl.StringVar(&f.keys, "npm-keys", "", "npm registry keys document ({\"keys\":[…]}, as served at /-/npm/v1/keys) replacing the shipped keys")
}

func (f *npmVerifyFlags) used() bool {
	return f.registry != "" || f.tarball != "" || len(f.attestations) > 0 || len(f.artifacts) > 0 || len(f.evidence) > 0 || f.keys != ""
}

// maxNPMFile bounds what verify reads from a local file.
const maxNPMFile = 256 << 20

func readBounded(flag, name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, usageError(fmt.Errorf("verify: %s: %w", flag, err))
	}
	if st.Size() > maxNPMFile {
		return nil, usageErrorf("verify: %s %s is larger than %d bytes", flag, name, maxNPMFile)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageError(fmt.Errorf("verify: %s: %w", flag, err))
	}
	return b, nil
}

func runVerifyNPM(cmd *cobra.Command, e *env, spec, policyFile, sourceRepo string, asJSON bool, f *npmVerifyFlags) error {
	name, version, err := npm.ParseSpec(spec)
	if err != nil {
		return usageError(fmt.Errorf("verify: npm:%s: %w", spec, err))
	}
	if len(f.artifacts) > 0 {
		return usageErrorf("verify: --artifact is for pypi:NAME@VERSION")
	}
	if len(f.attestations) > 1 {
		return usageErrorf("verify: npm takes one --attestations document")
	}
	offline := f.tarball != "" || len(f.attestations) > 0
	if offline && (f.tarball == "" || len(f.attestations) == 0) {
		return usageErrorf("verify: --tarball and --attestations go together")
	}
	if offline && f.registry != "" {
		return usageErrorf("verify: --npm-registry and --tarball/--attestations exclude each other")
	}
	pol, err := policy.ParseFile(policyFile)
	if err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	opts, call, err := npmVerifyOptions(f, sourceRepo)
	if err != nil {
		return err
	}
	ref := "npm:" + spec
	if !offline {
		reg := f.registry
		if reg == "" {
			reg = npm.DefaultRegistry
		}
		guard, err := cliGuard(e, "", nil, []string{reg})
		if err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		opts = append(opts, attest.WithTransport(guard.RoundTripper()), attest.WithNPMRegistry(reg))
	}
	v, err := attest.NewVerifier(pol, opts...)
	if err != nil {
		if errors.Is(err, policy.ErrInvalid) {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		return fmt.Errorf("verify: %w", err)
	}
	var res *attest.Result
	if offline {
		tgz, err := readBounded("--tarball", f.tarball)
		if err != nil {
			return err
		}
		atts, err := readBounded("--attestations", f.attestations[0])
		if err != nil {
			return err
		}
		res, err = v.VerifyNPMPackage(&attest.NPMPackage{Name: name, Version: version, Tarball: tgz, Attestations: atts}, call...)
		if err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
	} else {
		res, err = v.VerifyNPM(cmd.Context(), name, version, call...)
		if errors.Is(err, npm.ErrSpec) {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	return printVerifyResult(e, ref, res, asJSON)
}

// npmVerifyOptions reads --npm-keys and --evidence.
func npmVerifyOptions(f *npmVerifyFlags, sourceRepo string) ([]attest.Option, []attest.CallOption, error) {
	var opts []attest.Option
	if f.keys != "" {
		raw, err := readBounded("--npm-keys", f.keys)
		if err != nil {
			return nil, nil, err
		}
		keys, err := npm.ParseKeys(raw)
		if err != nil {
			return nil, nil, usageError(fmt.Errorf("verify: --npm-keys %s: %w", f.keys, err))
		}
		opts = append(opts, attest.WithNPMKeys(keys...))
	}
	var call []attest.CallOption
	if sourceRepo != "" {
		call = append(call, attest.ForSourceRepository(sourceRepo))
	}
	for _, p := range f.evidence {
		b, err := readBounded("--evidence", p)
		if err != nil {
			return nil, nil, err
		}
		call = append(call, attest.WithEvidence(attest.SuppliedEvidence{Name: filepath.Base(p), Bundle: b}))
	}
	return opts, call, nil
}
