package attest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/attest/mcpb"
)

// ArtifactMCPB is the artifact type of an MCP bundle (.mcpb), pinned by its fileSha256.
const ArtifactMCPB = "mcpb"

// CheckMCPBManifest: the bundle's manifest.json is missing or malformed.
const CheckMCPBManifest = "mcpb.manifest"

// ErrMCPBSpec is wrapped by errors about a bundle URL or fileSha256 (a usage error).
var ErrMCPBSpec = mcpb.ErrSpec

// MCPBBundle is one MCP bundle: where it is, the digest server.json declares, its bytes.
type MCPBBundle struct {
	URL string
	// SHA256 is the declared fileSha256 (hex); Data must hash to it.
	SHA256 string
	Data   []byte
}

// MCPBResult is a bundle's verification and what its manifest declares.
type MCPBResult struct {
	*Result
	// Manifest is the bundle's manifest.json as read; nil when it could not be read.
	Manifest *mcpb.Manifest `json:"manifest,omitempty"`
}

// FetchMCPB downloads the bundle at url through the configured transport (bounded) and
// verifies it as VerifyMCPB does. A bundle that cannot be downloaded fails the "resolve"
// check; one that does not hash to fileSha256 fails "integrity".
func (v *Verifier) FetchMCPB(ctx context.Context, url, sha256Hex string, opts ...CallOption) (*MCPBResult, []byte, error) {
	if _, err := mcpb.CheckURL(url, v.cfg.insecure); err != nil {
		return nil, nil, err
	}
	if err := mcpb.CheckSHA256(sha256Hex); err != nil {
		return nil, nil, err
	}
	data, err := mcpb.Fetch(ctx, mcpb.FetchOptions{Transport: v.cfg.transport, Insecure: v.cfg.insecure}, url, sha256Hex)
	if err != nil {
		check := CheckResolve
		switch {
		case errors.Is(err, mcpb.ErrHash):
			check = CheckIntegrity
		case errors.Is(err, mcpb.ErrSpec):
			return nil, nil, err
		case !errors.Is(err, mcpb.ErrFetch) && !errors.Is(err, context.DeadlineExceeded):
			return nil, nil, fmt.Errorf("attest: fetch %s: %w", url, err)
		}
		r := &Result{Ref: "mcpb:" + url, Repository: url, VerifiedAt: v.cfg.now().UTC(), Items: []Item{}}
		r.Failures = []Failure{{Check: check, Reason: err.Error()}}
		return &MCPBResult{Result: r}, nil, nil
	}
	res, err := v.VerifyMCPB(&MCPBBundle{URL: url, SHA256: sha256Hex, Data: data}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return res, data, nil
}

// VerifyMCPB verifies a bundle from its bytes, without I/O: Data must hash to the declared
// fileSha256; its manifest.json is read strictly; every supplied bundle (the call's
// evidence: a cosign sign-blob signature, SBOM and tool-manifest attestations) must bind to
// that sha256 and verify against the policy's authorities. A signature over the digest by
// a policy identity is required whatever the policy says: a bundle carries no other
// evidence of who made it.
func (v *Verifier) VerifyMCPB(b *MCPBBundle, opts ...CallOption) (*MCPBResult, error) {
	if err := mcpb.CheckSHA256(b.SHA256); err != nil {
		return nil, err
	}
	core, c := v.core(opts)
	return core.verifyMCPB(b, c.evidence, v.cfg.now().UTC()), nil
}

func (v *verifier) verifyMCPB(b *MCPBBundle, supplied []SuppliedEvidence, now time.Time) *MCPBResult {
	res := &Result{Ref: "mcpb:" + b.URL, Repository: b.URL, VerifiedAt: now, Items: []Item{}}
	out := &MCPBResult{Result: res}
	if got := mcpb.Sum(b.Data); got != b.SHA256 {
		res.Failures = []Failure{{Check: CheckIntegrity, Reason: fmt.Sprintf("the bundle hashes to sha256:%s, server.json declares fileSha256 %s", got, b.SHA256)}}
		return out
	}
	res.Digest = "sha256:" + b.SHA256
	res.Artifact = &Artifact{Type: ArtifactMCPB, Locator: b.URL, Digests: map[string]string{"sha256": b.SHA256}}
	m, err := mcpb.ReadManifest(b.Data)
	if err != nil {
		res.Failures = append(res.Failures, Failure{Check: CheckMCPBManifest, Reason: err.Error()})
	} else {
		out.Manifest = m
		res.Artifact.Name, res.Artifact.Version = m.Name, m.Version
	}
	raw, _ := hex.DecodeString(b.SHA256)
	bind := &binding{digests: map[string][]byte{"sha256": raw}, what: "the bundle " + res.Digest}
	for i, e := range supplied {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("evidence[%d]", i)
		}
		name = "supplied " + name
		var (
			item *Item
			ev   *verifiedEvidence
		)
		cand, rej := prepareBundle(name, e.Bundle, bind)
		if rej == nil {
			item, ev, rej = v.verifyOne(cand)
		}
		v.keep(res, name, e.Bundle, item, ev, rej)
	}
	for _, rj := range res.Rejected {
		res.Failures = append(res.Failures, Failure{Check: rj.Check, Reason: rj.Candidate + ": " + rj.Reason})
	}
	strict := *v
	pol := *v.pol
	pol.Require.Signature = true
	strict.pol = &pol
	strict.requirements(res)
	res.Passed = len(res.Failures) == 0
	return out
}
