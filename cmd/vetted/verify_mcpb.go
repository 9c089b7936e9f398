package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/mcpb"
)

// mcpbVerifyOutput is verify --json for mcpb.
type mcpbVerifyOutput struct {
	Ref    string `json:"ref"`
	Passed bool   `json:"passed"`
	*attest.MCPBResult
}

// runVerifyMCPB verifies an MCP bundle: from --artifact FILE offline, else downloaded from
// its URL; --sha256 is the declared fileSha256; --evidence the publisher's bundles.
func runVerifyMCPB(cmd *cobra.Command, e *env, bundleURL, policyFile, sourceRepo string, asJSON bool, f *npmVerifyFlags, pf *pkgVerifyFlags) error {
	if f.tarball != "" || f.registry != "" || f.keys != "" || len(f.attestations) > 0 || pf.index != "" || pf.distributions != "" {
		return usageErrorf("verify: mcpb:URL takes --sha256, --artifact, --evidence, --policy and --json only")
	}
	if len(f.artifacts) > 1 {
		return usageErrorf("verify: mcpb: one --artifact (the bundle file)")
	}
	if pf.sha256 == "" {
		return usageErrorf("verify: mcpb:%s: --sha256 HEX (the bundle's fileSha256) is required", bundleURL)
	}
	if err := mcpb.CheckSHA256(pf.sha256); err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	if _, err := mcpb.CheckURL(bundleURL, nil); err != nil {
		return usageError(fmt.Errorf("verify: %w", err))
	}
	call, err := suppliedEvidence(f.evidence)
	if err != nil {
		return err
	}
	if sourceRepo != "" {
		call = append(call, attest.ForSourceRepository(sourceRepo))
	}
	var res *attest.MCPBResult
	if len(f.artifacts) == 1 {
		data, err := readBounded("--artifact", f.artifacts[0])
		if err != nil {
			return err
		}
		v, err := verifierFor(policyFile)
		if err != nil {
			return err
		}
		if res, err = v.VerifyMCPB(&attest.MCPBBundle{URL: bundleURL, SHA256: pf.sha256, Data: data}, call...); err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
	} else {
		guard, err := cliGuard(e, "", nil, []string{bundleURL})
		if err != nil {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		v, err := verifierFor(policyFile, attest.WithTransport(guard.RoundTripper()))
		if err != nil {
			return err
		}
		res, _, err = v.FetchMCPB(cmd.Context(), bundleURL, pf.sha256, call...)
		if errors.Is(err, attest.ErrMCPBSpec) {
			return usageError(fmt.Errorf("verify: %w", err))
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	ref := "mcpb:" + bundleURL
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(mcpbVerifyOutput{Ref: ref, Passed: res.Passed, MCPBResult: res}); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, res.Summary())
		if m := res.Manifest; m != nil {
			names := make([]string, len(m.Tools))
			for i, t := range m.Tools {
				names[i] = t.Name
			}
			fmt.Fprintf(e.stdout, "  manifest %s %s, tools: %s\n", m.Name, m.Version, strings.Join(names, ", "))
		}
	}
	if !res.Passed {
		fmt.Fprintf(e.stderr, "verify: %s failed: %s\n", ref, strings.Join(res.FailedChecks(), ", "))
		return checkFailedSilently()
	}
	return nil
}
