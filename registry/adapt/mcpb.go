package adapt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/mcpb"
	"github.com/vetted-dev/vetted/registry"
)

// verifyMCPB verifies an MCP bundle: downloaded from its URL (the identifier), checked
// against the declared fileSha256, its manifest read, and the publisher's evidence (a
// signature over the digest is required) verified with the namespace's verifier. Tools the
// manifest declares must be those of the attested tool manifest, else a reviewer decides.
func (v *Verifier) verifyMCPB(ctx context.Context, av *attest.Verifier, req registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	if req.FileSHA256 == "" {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: "an MCPB package needs fileSha256 (the sha256 of the bundle, as the server.json schema requires)"}
	}
	if len(req.Evidence) == 0 {
		return nil, &registry.CheckError{Check: registry.CheckSignature, Reason: "an MCPB bundle carries no evidence of who made it: supply a Sigstore bundle signing its sha256 " +
			req.FileSHA256 + " (cosign sign-blob --bundle) with vetted publish --evidence"}
	}
	var opts []attest.CallOption
	if req.RepositoryURL != "" {
		opts = append(opts, attest.ForSourceRepository(req.RepositoryURL))
	}
	for i, b := range req.Evidence {
		opts = append(opts, attest.WithEvidence(attest.SuppliedEvidence{Name: fmt.Sprintf("evidence[%d]", i), Bundle: b}))
	}
	res, data, err := av.FetchMCPB(ctx, req.Reference, req.FileSHA256, opts...)
	if errors.Is(err, mcpb.ErrSpec) {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	if res.Artifact == nil {
		reason, check := "the bundle could not be downloaded", registry.CheckResolve
		if len(res.Failures) > 0 {
			reason = res.Failures[0].Reason
			if res.Failures[0].Check == attest.CheckIntegrity {
				check = attest.CheckIntegrity
			}
		}
		return nil, &registry.CheckError{Check: check, Reason: reason}
	}
	vp, err := convertResult(res.Result)
	if err != nil {
		return nil, err
	}
	vp.Digest = res.Digest
	vp.Pinned = req.Reference + "#sha256=" + req.FileSHA256
	vp.MCPB = &registry.MCPBPin{URL: req.Reference, FileSHA256: req.FileSHA256, Data: data}
	if m := res.Manifest; m != nil {
		vp.MCPB.Name, vp.MCPB.Version = m.Name, m.Version
		for _, t := range m.Tools {
			vp.MCPB.Tools = append(vp.MCPB.Tools, t.Name)
		}
		if m.HasTools && vp.ToolManifest != nil {
			diffs, err := mcpb.CompareTools(m.Tools, vp.ToolManifest)
			switch {
			case err != nil:
				vp.Checks = append(vp.Checks, registry.Check{Name: registry.CheckMCPBTools, Outcome: registry.Review, Reason: "manifest.json declares tools, and the attested tool manifest cannot be compared: " + err.Error()})
			case len(diffs) > 0:
				vp.Checks = append(vp.Checks, registry.Check{Name: registry.CheckMCPBTools, Outcome: registry.Review,
					Reason: "the tools manifest.json declares differ from the attested tool manifest: " + strings.Join(diffs, "; ")})
			default:
				vp.Checks = append(vp.Checks, registry.Check{Name: registry.CheckMCPBTools, Outcome: registry.Pass,
					Reason: fmt.Sprintf("the %d tools manifest.json declares are those of the attested tool manifest", len(m.Tools))})
			}
		}
	}
	if res.SBOM != nil {
		vp.MCPB.SBOMSource = "attestation"
	}
	return vp, nil
}
