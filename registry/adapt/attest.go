package adapt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/registry"
)

// NamespacePolicy binds server names to the verification policy their packages must pass.
type NamespacePolicy struct {
	// Pattern matches server names: "io.github.acme/*", "com.example/weather", or "*" for
	// every server.
	Pattern string
	Policy  *attest.Policy
	// Name identifies the policy in the registry's attestation (e.g. the policy file name).
	Name string
}

// Verifier is a registry.Verifier over attest, with one policy per namespace pattern.
// A server name no pattern matches is denied.
type Verifier struct {
	policies  []NamespacePolicy
	verifiers []*attest.Verifier
	// npmRegistries are the npm registries packages may name (first: the default).
	npmRegistries []string
	// pypiIndexes are the PyPI indexes packages may name (first: the default);
	// pypiDists which files of a release are verified.
	pypiIndexes []string
	pypiDists   string
}

// NewVerifier returns a Verifier; the first matching pattern wins. Each namespace's
// attest.Verifier is built here, once: a policy whose keys, trusted roots or identity
// expressions do not load fails now (wrapping policy.ErrInvalid), not at the first publish.
func NewVerifier(policies []NamespacePolicy, opts ...attest.Option) (*Verifier, error) {
	v := &Verifier{policies: policies}
	for i, p := range policies {
		if p.Policy == nil {
			return nil, fmt.Errorf("adapt: policy %d (%s) is nil", i, p.Pattern)
		}
		if _, err := path.Match(p.Pattern, "x/y"); err != nil || p.Pattern == "" {
			return nil, fmt.Errorf("adapt: namespace pattern %q is malformed", p.Pattern)
		}
		av, err := attest.NewVerifier(p.Policy, opts...)
		if err != nil {
			return nil, fmt.Errorf("adapt: policy for %s (%s): %w", p.Pattern, p.Name, err)
		}
		v.verifiers = append(v.verifiers, av)
	}
	return v, nil
}

func (v *Verifier) policyFor(name string) (*NamespacePolicy, *attest.Verifier) {
	for i, p := range v.policies {
		if p.Pattern == "*" {
			return &v.policies[i], v.verifiers[i]
		}
		if ok, _ := path.Match(p.Pattern, name); ok {
			return &v.policies[i], v.verifiers[i]
		}
	}
	return nil, nil
}

// VerifyPackage implements registry.Verifier.
func (v *Verifier) VerifyPackage(ctx context.Context, req registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	np, av := v.policyFor(req.ServerName)
	if np == nil {
		return nil, &registry.CheckError{Check: registry.CheckVerify, Reason: fmt.Sprintf(
			"no verification policy covers %s; the registry denies what no policy covers (ask its operator to map the namespace to a policy)", req.ServerName)}
	}
	switch req.RegistryType {
	case "", "oci":
	case "npm":
		return v.verifyNPM(ctx, av, req)
	case "pypi":
		return v.verifyPyPI(ctx, av, req)
	case "mcpb":
		return v.verifyMCPB(ctx, av, req)
	default:
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: fmt.Sprintf("registryType %q cannot be verified", req.RegistryType)}
	}
	var opts []attest.CallOption
	if req.RepositoryURL != "" {
		opts = append(opts, attest.ForSourceRepository(req.RepositoryURL))
	}
	if len(req.Evidence) > 0 {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: "publisher-supplied evidence is for npm packages; attach evidence to an OCI image as referrers"}
	}
	res, err := av.Verify(ctx, req.Reference, opts...)
	if err != nil {
		return nil, err
	}
	if res.Digest == "" {
		reason := "the reference could not be resolved"
		if len(res.Failures) > 0 {
			reason = res.Failures[0].Reason
		}
		return nil, &registry.CheckError{Check: registry.CheckResolve, Reason: reason}
	}
	return convertResult(res)
}

// requirementCheck maps attest's requirement checks onto the pipeline's names.
var requirementCheck = map[string]string{
	attest.CheckRequireSignature:  registry.CheckSignature,
	attest.CheckRequireSBOM:       registry.CheckSBOM,
	attest.CheckRequireProvenance: registry.CheckProvenance,
	attest.CheckRequireTools:      registry.CheckToolsAttested,
}

var kindCheck = map[attest.Kind]string{
	attest.KindSignature:  registry.CheckSignature,
	attest.KindSBOM:       registry.CheckSBOM,
	attest.KindProvenance: registry.CheckProvenance,
	attest.KindTools:      registry.CheckToolsAttested,
}

func convertResult(res *attest.Result) (*registry.VerifiedPackage, error) {
	vp := &registry.VerifiedPackage{Digest: res.Digest, Pinned: res.Repository + "@" + res.Digest}
	if res.Repository == "" {
		repo := res.Ref
		if i := strings.LastIndex(repo, "@"); i >= 0 {
			repo = repo[:i]
		} else if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		vp.Pinned = repo + "@" + res.Digest
	}
	failed := map[string]bool{}
	for _, f := range res.Failures {
		name, ok := requirementCheck[f.Check]
		if !ok {
			name = f.Check
		}
		failed[name] = true
		vp.Checks = append(vp.Checks, registry.Check{Name: name, Outcome: registry.Fail, Reason: f.Reason + rejectedHint(res, f)})
	}
	seen := map[string]bool{}
	for _, it := range res.Items {
		name := kindCheck[it.Kind]
		if name == "" || failed[name] || seen[name] {
			continue
		}
		seen[name] = true
		who := it.SignerIdentity
		if it.Issuer != "" {
			who += " (issuer " + it.Issuer + ")"
		}
		vp.Checks = append(vp.Checks, registry.Check{Name: name, Outcome: registry.Pass,
			Reason: fmt.Sprintf("verified %s bound to %s, signed by authority %q: %s", it.Kind, res.Digest, it.Authority, who)})
	}
	for _, it := range res.Items {
		kind := "key"
		if it.Issuer != "" {
			kind = "keyless"
		}
		vp.Signers = append(vp.Signers, registry.Signer{Kind: kind, Identity: it.SignerIdentity, Issuer: it.Issuer, For: string(it.Kind)})
	}
	if p := res.Provenance; p != nil {
		vp.Provenance = &registry.ProvenanceSummary{BuilderID: p.BuilderID, SourceRepo: p.SourceRepo, Commit: p.Commit,
			Ref: p.Ref, Workflow: p.Workflow, Trigger: p.Trigger, Runner: p.Runner}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	vp.Result = raw
	vp.Evidence = append(vp.Evidence, registry.RoledBlob{Role: "verification-result", Blob: registry.NewBlob("application/json", raw)})
	// The signed blobs themselves (Sigstore bundles, DSSE envelopes, simplesigning
	// payloads), so that every verification can be re-run from what the registry kept.
	for _, it := range res.Items {
		if len(it.Blob) > 0 {
			vp.Evidence = append(vp.Evidence, registry.RoledBlob{Role: "signed-" + string(it.Kind), Blob: registry.NewBlob(signedBlobMediaType(it.Blob), it.Blob)})
		}
	}
	if res.SBOM != nil {
		vp.SBOM = res.SBOM.Predicate
		vp.Evidence = append(vp.Evidence, registry.RoledBlob{Role: "sbom", Blob: registry.NewBlob("application/json", res.SBOM.Predicate)})
	}
	if res.ProvenancePredicate != nil {
		vp.Evidence = append(vp.Evidence, registry.RoledBlob{Role: "provenance", Blob: registry.NewBlob("application/json", res.ProvenancePredicate.Predicate)})
	}
	if res.ToolManifest != nil {
		vp.ToolManifest = res.ToolManifest.Predicate
	}
	return vp, nil
}

// rejectedHint appends, for a failed requirement, up to three candidates that were found
// but did not verify, so that the publisher sees why (wrong key, wrong identity, …).
func rejectedHint(res *attest.Result, f attest.Failure) string {
	if _, ok := requirementCheck[f.Check]; !ok || len(res.Rejected) == 0 || strings.Contains(f.Reason, "rejected") {
		return "" // attest already says which candidates it rejected
	}
	var parts []string
	for i, r := range res.Rejected {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(res.Rejected)-3))
			break
		}
		parts = append(parts, r.Check+": "+r.Reason)
	}
	return "; candidates found but rejected: " + strings.Join(parts, "; ")
}

// VerifyRemoteTools implements registry.RemoteToolsVerifier: ref is an OCI artifact whose
// tool-manifest attestation must verify with the namespace's policy (its authorities, log
// and timestamp rules); only the tool manifest is required of it.
func (v *Verifier) VerifyRemoteTools(ctx context.Context, serverName, ref string) (*registry.VerifiedPackage, error) {
	np, av := v.policyFor(serverName)
	if np == nil {
		return nil, &registry.CheckError{Check: registry.CheckToolsAttested, Reason: fmt.Sprintf(
			"no verification policy covers %s; the registry denies what no policy covers", serverName)}
	}
	res, err := av.Verify(ctx, ref, attest.RequireOnly(policy.Require{Tools: true}))
	if err != nil {
		return nil, err
	}
	if res.Digest == "" {
		reason := "the tool-manifest artifact could not be resolved"
		if len(res.Failures) > 0 {
			reason = res.Failures[0].Reason
		}
		return nil, &registry.CheckError{Check: registry.CheckResolve, Reason: reason}
	}
	return convertResult(res)
}

// signedBlobMediaType names what a verified blob is by its content: a Sigstore bundle carries
// its mediaType, a DSSE envelope its payloadType; anything else is cosign's simplesigning
// payload or a raw message.
func signedBlobMediaType(b []byte) string {
	var probe struct {
		MediaType   string `json:"mediaType"`
		PayloadType string `json:"payloadType"`
		Critical    any    `json:"critical"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return "application/octet-stream"
	}
	switch {
	case strings.HasPrefix(probe.MediaType, "application/vnd.dev.sigstore.bundle"):
		return probe.MediaType
	case probe.PayloadType != "":
		return "application/vnd.dsse.envelope.v1+json"
	case probe.Critical != nil:
		return "application/vnd.dev.cosign.simplesigning.v1+json"
	}
	return "application/json"
}

// RequiresServerJSON implements registry.ServerJSONVerifier: the namespace's policy has
// require.serverJSON.
func (v *Verifier) RequiresServerJSON(serverName string) bool {
	np, _ := v.policyFor(serverName)
	return np != nil && np.Policy.Require.ServerJSON
}

// VerifyServerJSON implements registry.ServerJSONVerifier: bundle must be a Sigstore bundle
// over one of digests, signed by an authority of the namespace's policy allowed to sign
// "serverJSON" evidence.
func (v *Verifier) VerifyServerJSON(_ context.Context, serverName string, digests []string, bundle []byte) (*registry.VerifiedPackage, error) {
	np, av := v.policyFor(serverName)
	if np == nil {
		return nil, &registry.CheckError{Check: registry.CheckServerJSONSignature, Reason: fmt.Sprintf(
			"no verification policy covers %s; the registry denies what no policy covers", serverName)}
	}
	item, err := av.VerifyBundle(bundle, digests, policy.KindServerJSON)
	var fe *attest.FailedError
	switch {
	case errors.As(err, &fe):
		return nil, &registry.CheckError{Check: registry.CheckServerJSONSignature, Reason: fe.Failures[0].String()}
	case err != nil:
		return nil, err
	}
	who := item.SignerIdentity
	kind := "key"
	if item.Issuer != "" {
		who += " (issuer " + item.Issuer + ")"
		kind = "keyless"
	}
	raw, err := json.Marshal(item)
	if err != nil {
		return nil, err
	}
	return &registry.VerifiedPackage{
		Digest: item.SubjectDigest,
		Checks: []registry.Check{{Name: registry.CheckServerJSONSignature, Outcome: registry.Pass,
			Reason: fmt.Sprintf("server.json %s signed by authority %q: %s", item.SubjectDigest, item.Authority, who)}},
		Signers: []registry.Signer{{Kind: kind, Identity: item.SignerIdentity, Issuer: item.Issuer, For: policy.KindServerJSON}},
		Result:  raw,
		Evidence: []registry.RoledBlob{
			{Role: "signed-serverjson", Blob: registry.NewBlob(signedBlobMediaType(bundle), bundle)},
			{Role: "serverjson-verification", Blob: registry.NewBlob("application/json", raw)},
		},
	}, nil
}
