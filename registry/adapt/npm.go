package adapt

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/registry"
)

// SetNPMRegistries replaces the npm registries a server.json may name as registryBaseUrl
// (default: only https://registry.npmjs.org). The first is the default for packages that
// name none.
func (v *Verifier) SetNPMRegistries(urls ...string) error {
	var out []string
	for _, u := range urls {
		n, err := normalizeRegistry(u)
		if err != nil {
			return fmt.Errorf("adapt: npm registry %q: %w", u, err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return fmt.Errorf("adapt: at least one npm registry is required")
	}
	v.npmRegistries = out
	return nil
}

func normalizeRegistry(u string) (string, error) {
	p, err := url.Parse(strings.TrimRight(u, "/"))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
		return "", fmt.Errorf("not an http(s) base URL")
	}
	return strings.ToLower(p.Scheme) + "://" + strings.ToLower(p.Host) + p.EscapedPath(), nil
}

func (v *Verifier) npmRegistry(base string) (string, error) {
	allowed := v.npmRegistries
	if len(allowed) == 0 {
		allowed = []string{npm.DefaultRegistry}
	}
	if base == "" {
		return allowed[0], nil
	}
	n, err := normalizeRegistry(base)
	if err != nil {
		return "", fmt.Errorf("registryBaseUrl %q: %v", base, err)
	}
	for _, a := range allowed {
		if a == n {
			return n, nil
		}
	}
	return "", fmt.Errorf("registryBaseUrl %s is not an npm registry this registry reads (publish.npm.registries: %s)", base, strings.Join(allowed, ", "))
}

// verifyNPM verifies an npm package version: the registry's attestations and the
// publisher's evidence, with the namespace's verifier.
func (v *Verifier) verifyNPM(ctx context.Context, av *attest.Verifier, req registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	if req.Version == "" {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: "an npm package needs its exact version (packages[].version)"}
	}
	if _, _, err := npm.ParseSpec(req.Reference + "@" + req.Version); err != nil {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	reg, err := v.npmRegistry(req.RegistryBaseURL)
	if err != nil {
		return nil, &registry.CheckError{Check: registry.CheckPackages, Reason: err.Error()}
	}
	opts := []attest.CallOption{attest.FromNPMRegistry(reg)}
	if req.RepositoryURL != "" {
		opts = append(opts, attest.ForSourceRepository(req.RepositoryURL))
	}
	for i, b := range req.Evidence {
		opts = append(opts, attest.WithEvidence(attest.SuppliedEvidence{Name: fmt.Sprintf("evidence[%d]", i), Bundle: b}))
	}
	res, tarball, err := av.VerifyNPMWithTarball(ctx, req.Reference, req.Version, opts...)
	if err != nil {
		return nil, err
	}
	if res.Artifact == nil {
		reason, check := "the package could not be resolved", registry.CheckResolve
		if len(res.Failures) > 0 {
			reason = res.Failures[0].Reason
			if res.Failures[0].Check == attest.CheckIntegrity {
				check = attest.CheckIntegrity
			}
		}
		return nil, &registry.CheckError{Check: check, Reason: reason}
	}
	vp, err := convertResult(res)
	if err != nil {
		return nil, err
	}
	npmChecks(vp, res, av.Policy().SignersFor(string(attest.KindSignature)))
	a := res.Artifact
	vp.Digest = "sha256:" + a.Digests["sha256"]
	vp.Pinned = req.Reference + "@" + req.Version
	vp.NPM = &registry.NPMPin{
		Name: req.Reference, Version: req.Version, Integrity: npm.Integrity(a.Digests["sha512"]),
		SHA256: vp.Digest, TarballURL: a.Locator, Tarball: tarball,
	}
	if res.SBOM != nil {
		vp.NPM.SBOMSource = "attestation"
	}
	return vp, nil
}

// npmChecks adds what an npm result proves beyond the per-kind checks: npm's publish
// attestation, and the signature requirement met by verified provenance (attest counts
// provenance signed by an authority allowed to sign signatures as a signature over the
// tarball).
func npmChecks(vp *registry.VerifiedPackage, res *attest.Result, signers []string) {
	has := map[string]bool{}
	for _, c := range vp.Checks {
		has[c.Name] = true
	}
	for _, it := range res.Items {
		switch {
		case it.Kind == attest.KindPublish && !has["npm.publish"]:
			has["npm.publish"] = true
			vp.Checks = append(vp.Checks, registry.Check{Name: "npm.publish", Outcome: registry.Pass,
				Reason: fmt.Sprintf("npm's publish attestation for %s verified with registry key %s", res.Digest, it.SignerIdentity)})
		case it.Kind == attest.KindProvenance && !has[registry.CheckSignature] && (len(signers) == 0 || slices.Contains(signers, it.Authority)):
			has[registry.CheckSignature] = true
			vp.Checks = append(vp.Checks, registry.Check{Name: registry.CheckSignature, Outcome: registry.Pass,
				Reason: fmt.Sprintf("npm provenance bound to %s, signed by authority %q: %s (issuer %s)", res.Digest, it.Authority, it.SignerIdentity, it.Issuer)})
		}
	}
}
