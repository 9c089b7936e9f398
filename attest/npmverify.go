package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/npm"
)

// SuppliedEvidence is a Sigstore bundle a publisher supplied for an artifact the registry
// of its type carries no such evidence for (an SBOM or tool-manifest attestation, a
// signature over the tarball). Its role is inferred from what it signs.
type SuppliedEvidence struct {
	// Name says where it came from (a file name, "evidence[0]"), for rejections.
	Name   string
	Bundle []byte
}

// NPMPackage is one npm package version's bytes and the registry's evidence for it, as
// fetched from a registry or given as local files.
type NPMPackage struct {
	Name    string
	Version string
	// Registry is the registry base URL (empty for local files).
	Registry string
	// TarballURL is dist.tarball (empty for local files).
	TarballURL string
	// Integrity is dist.integrity; the tarball must match it byte for byte. Empty: none is
	// known (local files), and the tarball's own sha512 is what the attestations must bind.
	Integrity string
	Tarball   []byte
	// Attestations is the registry's attestations document; nil when there is none.
	Attestations []byte
}

// ErrNPMSpec is wrapped by errors about an npm name or version (a usage error, not a
// refusal): only exact versions are verified.
var ErrNPMSpec = npm.ErrSpec

// VerifyNPM fetches name@version from the npm registry (FromNPMRegistry, WithNPMRegistry,
// else registry.npmjs.org) through the configured transport: its version document, its
// tarball (bounded) and its attestations document; then verifies as VerifyNPMPackage does.
// A name or version that is not exact returns an error wrapping ErrNPMSpec; a registry that
// has no such version, answers badly or breaks a bound fails the "resolve" check.
func (v *Verifier) VerifyNPM(ctx context.Context, name, version string, opts ...CallOption) (*Result, error) {
	res, _, err := v.VerifyNPMWithTarball(ctx, name, version, opts...)
	return res, err
}

// VerifyNPMWithTarball is VerifyNPM that also returns the tarball it verified (nil when it
// could not be fetched or did not match its integrity), for scanning it afterwards.
func (v *Verifier) VerifyNPMWithTarball(ctx context.Context, name, version string, opts ...CallOption) (*Result, []byte, error) {
	if err := npm.ValidateName(name); err != nil {
		return nil, nil, err
	}
	if err := npm.ValidateVersion(version); err != nil {
		return nil, nil, err
	}
	core, c := v.core(opts)
	client := npm.New(npm.Options{Transport: v.cfg.transport, Insecure: v.cfg.insecure, Limits: v.cfg.npmLimits, Logger: v.cfg.logger})
	p, err := client.Fetch(ctx, c.npmRegistry, name, version)
	if err != nil {
		if errors.Is(err, npm.ErrSpec) {
			return nil, nil, err
		}
		if errors.Is(err, npm.ErrNotFound) || errors.Is(err, npm.ErrRegistry) || errors.Is(err, npm.ErrLimit) ||
			errors.Is(err, context.DeadlineExceeded) {
			r := &Result{Ref: npmRef(name, version), Repository: c.npmRegistry, VerifiedAt: v.cfg.now().UTC(), Items: []Item{}}
			r.Failures = []Failure{{Check: CheckResolve, Reason: err.Error()}}
			return r, nil, nil
		}
		return nil, nil, fmt.Errorf("attest: fetch %s: %w", npmRef(name, version), err)
	}
	pkg := &NPMPackage{Name: name, Version: version, Registry: p.Registry, TarballURL: p.TarballURL,
		Integrity: p.Integrity, Tarball: p.Tarball, Attestations: p.Attestations}
	res := core.verifyNPM(pkg, c.evidence, v.cfg.now().UTC())
	if res.Artifact == nil {
		return res, nil, nil
	}
	return res, p.Tarball, nil
}

// VerifyNPMPackage verifies an npm package from its bytes, without I/O: the tarball against
// the integrity string (when given); every attestation of the registry's document (npm's
// publish attestation against the configured npm keys, SLSA provenance against the policy's
// authorities, exactly like an OCI attestation), each bound to pkg:npm/NAME@VERSION with the
// tarball's sha512; every supplied bundle, bound to the tarball's sha512 or sha256; then the
// policy's requirements. Any attestation or supplied bundle that is present but does not
// verify refuses the package, whatever the policy requires.
func (v *Verifier) VerifyNPMPackage(pkg *NPMPackage, opts ...CallOption) (*Result, error) {
	if err := npm.ValidateName(pkg.Name); err != nil {
		return nil, err
	}
	if err := npm.ValidateVersion(pkg.Version); err != nil {
		return nil, err
	}
	core, c := v.core(opts)
	return core.verifyNPM(pkg, c.evidence, v.cfg.now().UTC()), nil
}

func npmRef(name, version string) string { return "npm:" + name + "@" + version }

func (v *verifier) verifyNPM(pkg *NPMPackage, supplied []SuppliedEvidence, now time.Time) *Result {
	res := &Result{Ref: npmRef(pkg.Name, pkg.Version), Repository: pkg.Registry, VerifiedAt: now, Items: []Item{}}
	d := npm.Sum(pkg.Tarball)
	if pkg.Integrity != "" {
		var err error
		if d, err = npm.CheckIntegrity(pkg.Tarball, pkg.Integrity); err != nil {
			res.Failures = []Failure{{Check: CheckIntegrity, Reason: err.Error()}}
			return res
		}
	}
	res.Digest = "sha512:" + d.SHA512
	res.Artifact = &Artifact{Type: ArtifactNPM, Name: pkg.Name, Version: pkg.Version, Locator: pkg.TarballURL,
		Digests: map[string]string{"sha512": d.SHA512, "sha256": d.SHA256}}
	s512, _ := hex.DecodeString(d.SHA512)
	s256, _ := hex.DecodeString(d.SHA256)
	purl := npm.PURL(pkg.Name, pkg.Version)
	what := fmt.Sprintf("the package %s (sha512:%s)", purl, d.SHA512)
	registryBinding := &binding{
		digests: map[string][]byte{"sha512": s512}, wantName: purl, what: what,
		name: func(s string) bool {
			n, ver, err := npm.ParsePURL(s)
			return err == nil && n == pkg.Name && ver == pkg.Version
		},
	}
	suppliedBinding := &binding{digests: map[string][]byte{"sha512": s512, "sha256": s256},
		what: fmt.Sprintf("the tarball of %s (sha512:%s, sha256:%s)", purl, d.SHA512, d.SHA256)}

	if pkg.Attestations != nil {
		atts, err := npm.ParseAttestations(pkg.Attestations)
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Candidate: "npm attestations document", Check: CheckBundle, Reason: err.Error()})
		}
		for i, a := range atts {
			name := fmt.Sprintf("npm attestations[%d] (%s)", i, a.PredicateType)
			item, ev, rej := v.verifyRegistryAttestation(name, a, registryBinding, pkg)
			v.keep(res, name, a.Bundle, item, ev, rej)
		}
	}
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
		cand, rej := prepareBundle(name, e.Bundle, suppliedBinding)
		if rej == nil {
			item, ev, rej = v.verifyOne(cand)
		}
		v.keep(res, name, e.Bundle, item, ev, rej)
	}
	// Evidence that is present but does not verify refuses the package: it is never merely
	// skipped.
	for _, rj := range res.Rejected {
		res.Failures = append(res.Failures, Failure{Check: rj.Check, Reason: rj.Candidate + ": " + rj.Reason})
	}
	v.requirements(res)
	res.Passed = len(res.Failures) == 0
	return res
}

// keep records a verified item (with its bundle as the evidence blob) or a rejection.
func (v *verifier) keep(res *Result, name string, blob []byte, item *Item, ev *verifiedEvidence, rej *rejectErr) {
	if rej != nil {
		res.Rejected = append(res.Rejected, Rejection{Candidate: name, Check: rej.check, Reason: rej.reason})
		v.log.Debug("rejected", slog.String("candidate", name), slog.String("check", rej.check), slog.String("reason", rej.reason))
		return
	}
	sum := sha256.Sum256(blob)
	item.BlobDigest, item.Blob = "sha256:"+hex.EncodeToString(sum[:]), blob
	v.record(res, item, ev)
}

// verifyRegistryAttestation verifies one entry of npm's attestations document: the
// document's predicate type must be the signed statement's; a publish attestation verifies
// against the npm registry keys, provenance against the policy's authorities; any other
// predicate type is refused.
func (v *verifier) verifyRegistryAttestation(name string, a npm.Attestation, b *binding, pkg *NPMPackage) (*Item, *verifiedEvidence, *rejectErr) {
	cand, rej := prepareBundle(name, a.Bundle, b)
	if rej != nil {
		return nil, nil, rej
	}
	if cand.statement == nil {
		return nil, nil, reject(CheckStatement, "an npm attestation must be a DSSE in-toto statement, not a message signature")
	}
	if got := cand.statement.PredicateType; got != a.PredicateType {
		return nil, nil, reject(CheckPredicate, "the attestations document lists predicate type %q, the signed statement is %q", a.PredicateType, got)
	}
	switch {
	case a.PredicateType == npm.PredicatePublish:
		return v.verifyPublish(cand, pkg)
	case cand.kind == KindProvenance:
		return v.verifyOne(cand)
	}
	return nil, nil, reject(CheckPredicate, "predicate type %q is neither npm's publish attestation nor SLSA provenance", a.PredicateType)
}

// verifyPublish verifies npm's publish attestation with the configured npm registry keys
// only: the bundle's key hint must name one, and the log time must lie in its window.
func (v *verifier) verifyPublish(cand *candidate, pkg *NPMPackage) (*Item, *verifiedEvidence, *rejectErr) {
	a := v.npmAuth
	if cand.cert {
		return nil, nil, reject(CheckAuthority, "npm's publish attestation must be signed with an npm registry key, not a certificate")
	}
	if a == nil || !a.keyIDs[cand.keyHint] {
		return nil, nil, reject(CheckAuthority, "signed with npm registry key %q, which is not configured (publish.npm.keys); a key carried in the bundle is never trusted", cand.keyHint)
	}
	item, _, rej := v.verifyWith(cand, a)
	if rej != nil && rej.check == CheckTlog && strings.Contains(rej.reason, "integrated time outside certificate validity") {
		// sigstore-go checks the key's window while verifying the log entry.
		rej = reject(CheckKey, "npm registry key %s is not valid at the log integration time (its validity window, publish.npm.keys): %s", cand.keyHint, rej.reason)
	}
	if rej != nil {
		rej.reason = fmt.Sprintf("authority %s: %s", a.name, rej.reason)
		return nil, nil, rej
	}
	p, err := npm.ParsePublishPredicate(cand.statement.Predicate)
	if err != nil {
		return nil, nil, reject(CheckPredicate, "%v", err)
	}
	if p.Name != pkg.Name || p.Version != pkg.Version {
		return nil, nil, reject(CheckPredicate, "publish attestation is for %s@%s, not %s@%s", p.Name, p.Version, pkg.Name, pkg.Version)
	}
	item.Kind, item.SignerIdentity = KindPublish, cand.keyHint
	return item, &verifiedEvidence{evidence: &Evidence{PredicateType: cand.statement.PredicateType, Predicate: cand.statement.Predicate}}, nil
}
