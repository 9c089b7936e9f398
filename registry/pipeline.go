package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// ErrForbidden: the caller may not do this (e.g. publish in a namespace it does not own).
// Nothing is written.
var ErrForbidden = errors.New("forbidden")

// Pipeline is the publish pipeline of DESIGN.md: authorize, resolve and pin, verify, require
// and scan the SBOM, inspect the tool manifest, decide, and record everything in one
// transaction. Every step is a function of the request and the evidence the Verifier and
// Scanner fetched, so a decision can be re-run and explained.
type Pipeline struct {
	store    PublishStore
	verifier Verifier
	scanner  Scanner
	tools    ToolInspector

	remote  RemoteToolsVerifier
	signer  VSASigner
	clock   func() time.Time
	toolPol ToolPolicy
	launch  LaunchPolicy
	sjv     ServerJSONVerifier
	log     *slog.Logger
	npm     NPMOptions
	pypi    PyPIOptions
}

// NPMSBOMGenerator builds the SBOM of a verified npm tarball (the registry-generated SBOM
// for packages whose publisher attested none) and lists its dependencies that no lockfile
// pins.
type NPMSBOMGenerator interface {
	GenerateNPMSBOM(ctx context.Context, tarball []byte) (sbom []byte, unpinned []string, err error)
}

// NPMOptions configure npm packages in the pipeline.
type NPMOptions struct {
	// SBOM generates the SBOM of packages without a verified SBOM attestation; nil: such
	// packages fail the sbom check.
	SBOM NPMSBOMGenerator
	// Unpinned is what dependencies named by a range only (no lockfile shipped) lead to:
	// "review" (default), "reject" or "allow".
	Unpinned string
}

// WithNPM configures npm packages.
func WithNPM(o NPMOptions) PipelineOption {
	return func(p *Pipeline) error {
		switch o.Unpinned {
		case "":
			o.Unpinned = "review"
		case "review", "reject", "allow":
		default:
			return fmt.Errorf("npm: unpinned %q is not review, reject or allow: %w", o.Unpinned, ErrInvalid)
		}
		p.npm = o
		return nil
	}
}

// RemoteToolsVerifier verifies the signed tool manifest of a remote-only server (one with
// `remotes` and no packages): an OCI artifact (ref) carrying a tool-manifest attestation
// signed by an identity the namespace's policy names.
type RemoteToolsVerifier interface {
	VerifyRemoteTools(ctx context.Context, serverName, ref string) (*VerifiedPackage, error)
}

// ToolPolicy says which lint severities hold a version for review and which reject it.
// Severities, in order: info, low, medium, high, critical.
type ToolPolicy struct {
	ReviewAt string
	RejectAt string
}

// PipelineOption configures a Pipeline.
type PipelineOption func(*Pipeline) error

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) PipelineOption {
	return func(p *Pipeline) error { p.clock = now; return nil }
}

// WithVSASigner makes the pipeline sign a verification summary for every published version.
func WithVSASigner(s VSASigner) PipelineOption {
	return func(p *Pipeline) error { p.signer = s; return nil }
}

// WithRemoteTools enables remote-only servers (their tool manifest verified by v).
func WithRemoteTools(v RemoteToolsVerifier) PipelineOption {
	return func(p *Pipeline) error { p.remote = v; return nil }
}

// WithToolPolicy sets the lint thresholds (default: review at low, reject at critical).
func WithToolPolicy(tp ToolPolicy) PipelineOption {
	return func(p *Pipeline) error {
		for _, s := range []string{tp.ReviewAt, tp.RejectAt} {
			if s != "" && severityRank(s) < 0 {
				return fmt.Errorf("tool policy: unknown severity %q: %w", s, ErrInvalid)
			}
		}
		p.toolPol = tp
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) PipelineOption {
	return func(p *Pipeline) error { p.log = l; return nil }
}

// NewPipeline returns a pipeline over its required seams.
func NewPipeline(store PublishStore, v Verifier, s Scanner, t ToolInspector, opts ...PipelineOption) (*Pipeline, error) {
	if store == nil || v == nil || s == nil || t == nil {
		return nil, fmt.Errorf("pipeline: store, verifier, scanner and tool inspector are required: %w", ErrInvalid)
	}
	p := &Pipeline{
		store: store, verifier: v, scanner: s, tools: t,
		clock:   time.Now,
		toolPol: ToolPolicy{ReviewAt: "low", RejectAt: "critical"},
		launch:  DefaultLaunchPolicy,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// PublishRequest is one publish.
type PublishRequest struct {
	// ServerJSON is the body as submitted.
	ServerJSON []byte
	// Actor names the caller in the audit chain ("<issuer>|<subject>").
	Actor string
	// Authorizer decides whether the caller may publish the server's name. Required.
	Authorizer Authorizer
	// ServerJSONBundle is the publisher's Sigstore bundle over the submitted server.json
	// (nil when none was sent); see ServerJSONVerifier.
	ServerJSONBundle []byte
	// Evidence are publisher-supplied Sigstore bundles (JSON), for what a package's own
	// registry does not carry (npm: SBOM and tool-manifest attestations over the tarball).
	Evidence [][]byte
	// Static limits an Evaluate to what needs no outbound request: packages are not
	// resolved, verified or scanned and no tool manifest is fetched (a dry run for a caller
	// who may not publish the name, so that anyone able to read cannot make the registry
	// fetch and verify on their behalf). Publish refuses a static request.
	Static bool
}

// PublishResult is the pipeline's answer.
type PublishResult struct {
	Decision Decision `json:"decision"`
	Checks   []Check  `json:"checks"`
	// Version is the stored version (zero when rejected: a rejection writes no version, only
	// its audit event, so that the publisher can fix the problem and publish again).
	Version Version `json:"-"`
	// Created is false when an identical version already existed (idempotent replay).
	Created bool `json:"created"`
	// AuditSeq is the audit event recording the decision (0 on an idempotent replay).
	AuditSeq int64 `json:"auditSeq,omitempty"`
}

// Publish runs the pipeline and records the result. Errors: ErrInvalid (*FieldError) for a
// malformed server.json, ErrForbidden when the caller may not publish the name, ErrConflict
// when the version exists with other content; any other error is operational. A rejection is
// not an error: it is a PublishResult with Decision rejected and the failing checks.
func (p *Pipeline) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	if req.Static {
		return PublishResult{}, errors.New("publish: a static evaluation cannot be published")
	}
	ev, err := p.Evaluate(ctx, req)
	if err != nil {
		return PublishResult{}, err
	}
	if ev.Existing != nil {
		return PublishResult{Decision: statusDecision(ev.Existing.Status), Checks: ev.Checks, Version: *ev.Existing}, nil
	}
	res := PublishResult{Decision: ev.Decision, Checks: ev.Checks}
	if ev.Decision == DecisionRejected {
		e, err := p.store.AppendAudit(ctx, ev.Publication.Audit)
		if err != nil {
			return PublishResult{}, fmt.Errorf("record rejection: %w", err)
		}
		res.AuditSeq = e.Seq
		return res, nil
	}
	stored, created, err := p.store.CommitPublication(ctx, *ev.Publication)
	for attempt := 1; errors.Is(err, ErrNamespacesChanged) && attempt <= maxNamespaceRechecks; attempt++ {
		// Another new namespace was recorded while this one was being checked: check the
		// namespace again against it, and decide again.
		if err := p.recheckNamespace(ctx, ev); err != nil {
			return PublishResult{}, err
		}
		res = PublishResult{Decision: ev.Decision, Checks: ev.Checks}
		if ev.Decision == DecisionRejected {
			e, err := p.store.AppendAudit(ctx, ev.Publication.Audit)
			if err != nil {
				return PublishResult{}, fmt.Errorf("record rejection: %w", err)
			}
			res.AuditSeq = e.Seq
			return res, nil
		}
		stored, created, err = p.store.CommitPublication(ctx, *ev.Publication)
	}
	if err != nil {
		return PublishResult{}, fmt.Errorf("record publication: %w", err)
	}
	res.Version, res.Created = stored, created
	if !created {
		// A concurrent identical publish won; report what is stored.
		res.Decision = statusDecision(stored.Status)
	}
	return res, nil
}

// maxNamespaceRechecks bounds how often one publish checks its new namespace again because
// other new namespaces kept appearing.
const maxNamespaceRechecks = 3

// recheckNamespace runs the look-alike check of ev's new namespace again against the
// namespaces stored now, and rebuilds the decision and publication.
func (p *Pipeline) recheckNamespace(ctx context.Context, ev *Evaluation) error {
	w := ev.work
	c, seen, err := p.namespaceCheck(ctx, w.doc.Name)
	if err != nil {
		return err
	}
	w.seen = seen
	for i := range w.checks {
		if w.checks[i].Name == CheckNamespace {
			w.checks[i] = c
		}
	}
	ev.Decision = Decide(w.checks)
	ev.Checks = w.checks
	pub, err := p.build(w, ev.req, ev.contentDigest, ev.Decision)
	if err != nil {
		return err
	}
	ev.Publication = pub
	return nil
}

func statusDecision(s Status) Decision {
	switch s {
	case StatusPublished:
		return DecisionPublished
	case StatusPendingReview:
		return DecisionPendingReview
	}
	return Decision(s)
}

// Evaluation is a decision before it is recorded.
type Evaluation struct {
	Doc      ServerDoc
	Decision Decision
	Checks   []Check
	// Existing is set when the same content is already stored (nothing to do).
	Existing *Version
	// Publication is what Publish writes (for a rejection, only Audit is used).
	Publication *Publication

	// What a namespace recheck needs to decide again.
	work          *work
	req           PublishRequest
	contentDigest string
}

// Evaluate runs every check and builds the publication without writing anything.
func (p *Pipeline) Evaluate(ctx context.Context, req PublishRequest) (*Evaluation, error) {
	if req.Authorizer == nil {
		return nil, fmt.Errorf("publish: no authorizer: %w", ErrForbidden)
	}
	doc, err := ParseServerJSON(req.ServerJSON)
	if err != nil {
		return nil, err
	}
	if err := req.Authorizer.AuthorizePublish(doc.Name); err != nil {
		return nil, fmt.Errorf("publish %s: %w: %w", doc.Name, ErrForbidden, err)
	}
	cd, err := CanonicalContentDigest(req.ServerJSON)
	if err != nil {
		return nil, err
	}
	key := Key{Name: doc.Name, Version: doc.Version}
	if v, err := p.store.GetVersion(ctx, key); err == nil {
		if v.ContentDigest != cd {
			return nil, fmt.Errorf("%s@%s exists with different content (versions are immutable; publish a new version): %w",
				doc.Name, doc.Version, ErrConflict)
		}
		return &Evaluation{Doc: doc, Existing: &v, Decision: statusDecision(v.Status), Checks: []Check{{
			Name: "idempotent", Outcome: Pass, Reason: "identical content already recorded; nothing changed",
		}}}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("look up %s@%s: %w", doc.Name, doc.Version, err)
	}

	now := p.clock().UTC()
	w := &work{doc: doc, now: now}
	w.add(Check{Name: CheckAuthorize, Outcome: Pass, Reason: "the caller may publish " + doc.Name})
	if err := p.checkNamespace(ctx, w); err != nil {
		return nil, err
	}
	p.checkServerJSON(ctx, w, req, cd)
	if req.Static {
		w.add(Check{Name: CheckPackagesSkipped, Outcome: Pass, Reason: "packages not resolved, verified or scanned and tools not inspected (a static dry run)"})
	} else {
		p.checkPackages(ctx, w, req)
		if err := p.checkTools(ctx, w); err != nil {
			return nil, err
		}
	}
	if err := p.checkLaunch(ctx, w, req.ServerJSON); err != nil {
		return nil, err
	}
	decision := Decide(w.checks)
	ev := &Evaluation{Doc: doc, Decision: decision, Checks: w.checks, work: w, req: req, contentDigest: cd}
	if req.Static {
		// Nothing was verified, so there is nothing to build, vouch for or record.
		return ev, nil
	}
	pub, err := p.build(w, req, cd, decision)
	if err != nil {
		return nil, err
	}
	ev.Publication = pub
	return ev, nil
}

// work accumulates a publish's checks and evidence.
type work struct {
	doc      ServerDoc
	now      time.Time
	checks   []Check
	pinned   []PinnedPackage
	verified []*VerifiedPackage
	labels   []string
	scans    []*ScanOutcome
	blobs    []Blob
	refs     []EvidenceRef
	manifest []byte
	report   *ToolReport
	seen     []string // the namespaces the look-alike check compared with
	// signers are identities that signed something other than a package (server.json).
	signers []Signer
	npm     []NPMPackageMeta
	npmIdx  map[int]bool
	pypi    []PyPIPackageMeta
	pypiIdx map[int]bool
	mcpb    []MCPBPackageMeta
	mcpbIdx map[int]bool
}

func (w *work) add(c ...Check) { w.checks = append(w.checks, c...) }

func (p *Pipeline) checkNamespace(ctx context.Context, w *work) error {
	c, seen, err := p.namespaceCheck(ctx, w.doc.Name)
	if err != nil {
		return err
	}
	w.seen = seen
	w.add(c)
	return nil
}

// namespaceCheck checks the namespace of name against the stored ones, and returns them.
func (p *Pipeline) namespaceCheck(ctx context.Context, name string) (Check, []string, error) {
	ns := Namespace(name)
	existing, err := p.store.Namespaces(ctx)
	if err != nil {
		return Check{}, nil, fmt.Errorf("list namespaces: %w", err)
	}
	if existing == nil {
		existing = []string{}
	}
	for _, e := range existing {
		if e == ns {
			return Check{Name: CheckNamespace, Outcome: Pass, Reason: "namespace " + ns + " already holds versions"}, existing, nil
		}
	}
	la := FindLookAlikes(ns, existing)
	if len(la) == 0 {
		return Check{Name: CheckNamespace, Outcome: Pass, Reason: "new namespace " + ns + " resembles no existing one"}, existing, nil
	}
	parts := make([]string, len(la))
	for i, l := range la {
		parts[i] = l.String()
	}
	return Check{Name: CheckNamespace, Outcome: Review, Reason: fmt.Sprintf(
		"new namespace %s resembles existing namespace(s): %s; a reviewer must confirm it is not an impersonation",
		ns, strings.Join(parts, "; "))}, existing, nil
}

func (p *Pipeline) checkPackages(ctx context.Context, w *work, req PublishRequest) {
	if len(w.doc.Packages) == 0 {
		p.checkRemoteOnly(ctx, w, req)
		return
	}
	counts := map[string]int{}
	for _, pkg := range w.doc.Packages {
		if evidencePackage[pkg.RegistryType] {
			counts[pkg.RegistryType]++
		}
	}
	if len(req.Evidence) > 0 && counts["npm"]+counts["pypi"]+counts["mcpb"] != 1 {
		w.add(Check{Name: CheckPackages, Outcome: Fail, Reason: fmt.Sprintf(
			"publisher-supplied evidence binds to one npm, PyPI or MCPB package; this server.json has %d npm packages and %d PyPI packages and %d MCPB packages",
			counts["npm"], counts["pypi"], counts["mcpb"])})
		return
	}
	results := p.verifyAll(ctx, w.doc, req.Evidence)
	for i, pkg := range w.doc.Packages {
		label := pkg.Label()
		if reason, ok := unverifiable[pkg.RegistryType]; ok {
			w.add(Check{Name: CheckPackages, Package: label, Outcome: Fail, Reason: reason})
			continue
		}
		if pkg.RegistryType != "oci" && !evidencePackage[pkg.RegistryType] {
			w.add(Check{Name: CheckPackages, Package: label, Outcome: Fail, Reason: fmt.Sprintf(
				"registryType %q cannot be verified; Vetted publishes OCI images (registryType \"oci\"), npm packages (\"npm\"), PyPI packages (\"pypi\") and MCP bundles (\"mcpb\") whose signatures, SBOM and tool manifest it can check",
				pkg.RegistryType)})
			continue
		}
		vp, err := results[i].vp, results[i].err
		if err != nil {
			w.add(failedCheck(err, label))
			continue
		}
		if pkg.RegistryType == "npm" && vp.NPM == nil {
			w.add(Check{Name: CheckResolve, Package: label, Outcome: Fail, Reason: "the verifier returned no npm pin (integrity, tarball digest)"})
			continue
		}
		if pkg.RegistryType == "mcpb" && (vp.MCPB == nil || vp.MCPB.FileSHA256 != pkg.FileSHA256) {
			w.add(Check{Name: CheckResolve, Package: label, Outcome: Fail, Reason: "the verifier returned no MCPB pin for the declared fileSha256"})
			continue
		}
		if pkg.RegistryType == "pypi" && (vp.PyPI == nil || len(vp.PyPI.Files) == 0) {
			w.add(Check{Name: CheckResolve, Package: label, Outcome: Fail, Reason: "the verifier returned no PyPI pin (files and their sha256)"})
			continue
		}
		if !ValidDigest(vp.Digest) || vp.Pinned == "" {
			w.add(Check{Name: CheckResolve, Package: label, Outcome: Fail, Reason: "the verifier returned no sha256 digest to pin"})
			continue
		}
		w.add(Check{Name: CheckResolve, Package: label, Outcome: Pass, Reason: "pinned to " + vp.Digest})
		for _, c := range p.npmChecks(vp) {
			c.Package = label
			w.add(c)
		}
		if vp.NPM != nil {
			p.npmSBOM(ctx, w, pkg.Index, label, vp)
		}
		if vp.PyPI != nil {
			p.pypiSBOM(ctx, w, pkg.Index, label, vp)
		}
		if vp.MCPB != nil {
			p.mcpbSBOM(ctx, w, pkg.Index, label, vp)
		}
		p.requireAndScan(ctx, w, pkg.Index, label, vp)
		w.pinned = append(w.pinned, PinnedPackage{Index: pkg.Index, Identifier: pkg.Identifier, Digest: vp.Digest, Pinned: vp.Pinned})
		w.verified = append(w.verified, vp)
		w.labels = append(w.labels, label)
		for _, rb := range vp.Evidence {
			w.blobs = append(w.blobs, rb.Blob)
			w.refs = append(w.refs, EvidenceRef{Package: pkg.Index, Role: rb.Role, Digest: rb.Blob.Digest})
		}
	}
}

// MaxConcurrentVerifications bounds how many packages of one publish are verified at once.
const MaxConcurrentVerifications = 4

type verifyResult struct {
	vp  *VerifiedPackage
	err error
}

// verifyAll verifies the OCI packages of doc, at most MaxConcurrentVerifications at a time
// (fetching is network-bound); the results come back in package order, so the checks are
// recorded in the same order as a serial run would.
func (p *Pipeline) verifyAll(ctx context.Context, doc ServerDoc, evidence [][]byte) []verifyResult {
	results := make([]verifyResult, len(doc.Packages))
	sem := make(chan struct{}, MaxConcurrentVerifications)
	var wg sync.WaitGroup
	for i, pkg := range doc.Packages {
		if pkg.RegistryType != "oci" && !evidencePackage[pkg.RegistryType] {
			continue
		}
		vreq := VerifyRequest{ServerName: doc.Name, Reference: pkg.Identifier, RepositoryURL: doc.RepositoryURL, RegistryType: pkg.RegistryType}
		if evidencePackage[pkg.RegistryType] {
			vreq.Version, vreq.RegistryBaseURL, vreq.Evidence, vreq.FileSHA256 = pkg.Version, pkg.RegistryBaseURL, evidence, pkg.FileSHA256
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() { // off the request's goroutine: a panic must not take the process down
				if r := recover(); r != nil {
					results[i] = verifyResult{err: fmt.Errorf("verifying %s: internal error: %v", pkg.Identifier, r)}
				}
			}()
			vp, err := p.verifier.VerifyPackage(ctx, vreq)
			results[i] = verifyResult{vp: vp, err: err}
		}()
	}
	wg.Wait()
	return results
}

// failedCheck records a seam's error as a failed check, named by a *CheckError when given.
func failedCheck(err error, label string) Check {
	var ce *CheckError
	if errors.As(err, &ce) {
		return Check{Name: ce.Check, Package: label, Outcome: Fail, Reason: ce.Reason}
	}
	return Check{Name: CheckVerify, Package: label, Outcome: Fail, Reason: err.Error()}
}

func hasCheck(cs []Check, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// requireAndScan requires the verified SBOM and tool manifest of one package and scans it.
func (p *Pipeline) requireAndScan(ctx context.Context, w *work, idx int, label string, vp *VerifiedPackage) {
	if vp.SBOM == nil {
		if !hasCheck(vp.Checks, CheckSBOM) {
			w.add(Check{Name: CheckSBOM, Package: label, Outcome: Fail, Reason: "no verified SBOM attestation whose subject is " + vp.Digest +
				"; attest one signed by an identity of the namespace policy (e.g. cosign attest --type spdxjson)"})
		}
		w.add(Check{Name: CheckScan, Package: label, Outcome: Fail, Reason: "not scanned: no verified SBOM"})
	} else {
		out, err := p.scanner.ScanSBOM(ctx, vp.SBOM, ScanProduct{ServerName: w.doc.Name, Version: w.doc.Version, Digest: vp.Digest})
		switch {
		case err != nil:
			w.add(Check{Name: CheckScan, Package: label, Outcome: Fail, Reason: "scan failed: " + err.Error()})
		case out.Summary.Outcome != Pass && out.Summary.Outcome != Review && out.Summary.Outcome != Fail:
			w.add(Check{Name: CheckScan, Package: label, Outcome: Fail, Reason: "scan returned no verdict"})
		default:
			out.Summary.SnapshotID = out.SnapshotID
			reason := out.Summary.Reason
			if reason == "" {
				reason = "no findings at the failing severity"
			}
			w.add(Check{Name: CheckScan, Package: label, Outcome: out.Summary.Outcome,
				Reason: reason + " (OSV snapshot " + out.SnapshotID + ")"})
			w.scans = append(w.scans, out)
			w.blobs = append(w.blobs, NewBlob("application/json", out.Report))
			w.refs = append(w.refs, EvidenceRef{Package: idx, Role: "scan-report", Digest: Digest(out.Report)})
		}
	}
	if vp.ToolManifest == nil {
		if !hasCheck(vp.Checks, CheckToolsAttested) {
			w.add(Check{Name: CheckToolsAttested, Package: label, Outcome: Fail, Reason: "no verified tool-manifest attestation whose subject is " + vp.Digest +
				"; capture it with `vetted tools capture` and attest it with cosign attest --type " + ToolManifestPredicateHint})
		}
		return
	}
	if w.manifest == nil {
		w.manifest = vp.ToolManifest
	} else if Digest(w.manifest) != Digest(vp.ToolManifest) {
		// Compared on canonical digests below; raw bytes may differ only in formatting.
		if a, b := p.manifestDigest(w.manifest), p.manifestDigest(vp.ToolManifest); a == "" || a != b {
			w.add(Check{Name: CheckToolsManifest, Package: label, Outcome: Fail, Reason: "this package's tool manifest differs from the first package's; every package of a version must serve the same tools"})
		}
	}
}

// ToolManifestPredicateHint is the tool-manifest predicate type, shown to publishers in
// reasons.
const ToolManifestPredicateHint = intoto.PredicateToolManifest

func (p *Pipeline) manifestDigest(m []byte) string {
	r, err := p.tools.Inspect("", m, nil)
	if err != nil {
		return ""
	}
	return r.ManifestDigest
}

func (p *Pipeline) checkRemoteOnly(ctx context.Context, w *work, _ PublishRequest) {
	const label = "remotes (tool manifest)"
	if p.remote == nil {
		w.add(Check{Name: CheckToolsAttested, Package: label, Outcome: Fail, Reason: "remote-only servers need a tool manifest signed by a configured identity, and this registry verifies none"})
		return
	}
	if w.doc.RemoteToolsRef == "" {
		w.add(Check{Name: CheckToolsAttested, Package: label, Outcome: Fail, Reason: "remote-only server without a signed tool manifest: push tools.json as an OCI artifact, attest it (cosign attest --type " +
			ToolManifestPredicateHint + "), and name it in _meta[\"io.modelcontextprotocol.registry/publisher-provided\"][\"" + RemoteToolsKey + "\"]"})
		return
	}
	vp, err := p.remote.VerifyRemoteTools(ctx, w.doc.Name, w.doc.RemoteToolsRef)
	if err != nil {
		c := failedCheck(err, label)
		if c.Name == CheckVerify {
			c.Name = CheckToolsAttested
		}
		w.add(c)
		return
	}
	for _, c := range vp.Checks {
		c.Package = label
		w.add(c)
	}
	if vp.ToolManifest == nil {
		w.add(Check{Name: CheckToolsAttested, Package: label, Outcome: Fail, Reason: "the bundle holds no verified tool manifest"})
		return
	}
	w.manifest = vp.ToolManifest
	w.verified = append(w.verified, vp)
	w.labels = append(w.labels, label)
	for _, rb := range vp.Evidence {
		w.blobs = append(w.blobs, rb.Blob)
		w.refs = append(w.refs, EvidenceRef{Package: -1, Role: rb.Role, Digest: rb.Blob.Digest})
	}
}

func (p *Pipeline) checkTools(ctx context.Context, w *work) error {
	if w.manifest == nil {
		return nil // the missing attestation already failed
	}
	var previous []byte
	var prevVersion string
	if latest, err := p.store.LatestPublished(ctx, w.doc.Name); err == nil && latest.Version != w.doc.Version {
		rec, err := p.store.VersionRecord(ctx, Key{Name: latest.Name, Version: latest.Version})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("previous tool manifest of %s@%s: %w", latest.Name, latest.Version, err)
		}
		previous, prevVersion = rec.ToolManifest, latest.Version
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("latest version of %s: %w", w.doc.Name, err)
	}
	rep, err := p.tools.Inspect(w.doc.Name, w.manifest, previous)
	if err != nil {
		w.add(Check{Name: CheckToolsManifest, Outcome: Fail, Reason: "tool manifest rejected: " + err.Error()})
		return nil
	}
	w.report = rep
	w.add(Check{Name: CheckToolsManifest, Outcome: Pass, Reason: fmt.Sprintf("%d tool(s), manifest digest %s", len(rep.Tools), rep.ManifestDigest)})
	w.blobs = append(w.blobs, NewBlob("application/json", w.manifest))
	w.refs = append(w.refs, EvidenceRef{Package: -1, Role: "tool-manifest", Digest: Digest(w.manifest)})

	// Lint.
	worst, worstF := -1, ToolFinding{}
	for _, f := range rep.Findings {
		if r := severityRank(f.Severity); r > worst {
			worst, worstF = r, f
		}
	}
	switch {
	case len(rep.Findings) == 0:
		w.add(Check{Name: CheckToolsLint, Outcome: Pass, Reason: "no lint findings"})
	case p.toolPol.RejectAt != "" && worst >= severityRank(p.toolPol.RejectAt):
		w.add(Check{Name: CheckToolsLint, Outcome: Fail, Reason: fmt.Sprintf("%d lint finding(s); worst: %s", len(rep.Findings), describeFinding(worstF))})
	case p.toolPol.ReviewAt != "" && worst >= severityRank(p.toolPol.ReviewAt):
		w.add(Check{Name: CheckToolsLint, Outcome: Review, Reason: fmt.Sprintf("%d lint finding(s) need review; worst: %s", len(rep.Findings), describeFinding(worstF))})
	default:
		w.add(Check{Name: CheckToolsLint, Outcome: Pass, Reason: fmt.Sprintf("%d lint finding(s) below the review threshold", len(rep.Findings))})
	}

	// Diff.
	switch {
	case previous == nil:
		w.add(Check{Name: CheckToolsDiff, Outcome: Pass, Reason: "first published version: nothing to compare"})
	case len(rep.Changed) > 0:
		w.add(Check{Name: CheckToolsDiff, Outcome: Review, Reason: fmt.Sprintf(
			"definition of existing tool(s) %s changed since %s; a reviewer must approve changed tools", strings.Join(rep.Changed, ", "), prevVersion)})
	default:
		reason := "no existing tool changed since " + prevVersion
		if len(rep.Added) > 0 {
			reason += "; added: " + strings.Join(rep.Added, ", ")
		}
		if len(rep.Removed) > 0 {
			reason += "; removed: " + strings.Join(rep.Removed, ", ")
		}
		w.add(Check{Name: CheckToolsDiff, Outcome: Pass, Reason: reason})
	}
	return nil
}

func describeFinding(f ToolFinding) string {
	return fmt.Sprintf("%s %s in tool %q at %s: %s", f.Severity, f.Rule, f.Tool, f.Pointer, f.Message)
}

var severities = []string{"info", "low", "medium", "high", "critical"}

func severityRank(s string) int {
	for i, v := range severities {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// build assembles the publication (or, for a rejection, the audit event alone).
func (p *Pipeline) build(w *work, req PublishRequest, contentDigest string, d Decision) (*Publication, error) {
	key := w.doc.Name + "@" + w.doc.Version
	auditData, err := json.Marshal(map[string]any{
		"decision": d, "checks": w.checks, "contentDigest": contentDigest, "packages": w.pinned,
		"toolManifestDigest": reportDigest(w.report),
	})
	if err != nil {
		return nil, err
	}
	pub := &Publication{Audit: AuditEvent{Time: w.now, Type: AuditPublishDecision, Actor: req.Actor, Subject: key, Data: auditData},
		SeenNamespaces: w.seen}
	if d == DecisionRejected {
		return pub, nil
	}
	pins := map[int]string{}
	for _, pp := range w.pinned {
		if !w.npmIdx[pp.Index] && !w.pypiIdx[pp.Index] && !w.mcpbIdx[pp.Index] { // npm and PyPI packages are served by their exact version, MCPB by URL + fileSha256, unchanged
			pins[pp.Index] = pp.Pinned
		}
	}
	served, err := PinServer(w.doc.Server, pins)
	if err != nil {
		return nil, err
	}
	rec := VersionRecord{
		Name: w.doc.Name, Version: w.doc.Version, Decision: d, Checks: w.checks,
		Actor: req.Actor, DecidedAt: w.now, Evidence: dedupeRefs(w.refs),
		ToolManifestDigest: reportDigest(w.report), ToolManifest: w.manifest,
	}
	var results, provs, pkgs []json.RawMessage
	meta := VettedMeta{Packages: w.pinned, NPM: w.npm, PyPI: w.pypi, MCPB: w.mcpb, ToolManifestDigest: rec.ToolManifestDigest, DecidedAt: w.now}
	for i, vp := range w.verified {
		results = append(results, nonNullJSON(vp.Result))
		meta.Signers = append(meta.Signers, vp.Signers...)
		if vp.Provenance != nil {
			meta.Provenance = append(meta.Provenance, PackageProvenance{Package: w.labels[i], ProvenanceSummary: *vp.Provenance})
		}
		pv, _ := json.Marshal(vp.Provenance)
		provs = append(provs, pv)
	}
	meta.Signers = dedupeSigners(append(meta.Signers, w.signers...))
	if rec.Verification, err = json.Marshal(results); err != nil {
		return nil, err
	}
	if rec.Provenance, err = json.Marshal(provs); err != nil {
		return nil, err
	}
	var reports []json.RawMessage
	if len(w.scans) > 0 {
		sum := mergeScanSummaries(w.scans)
		meta.Scan = &sum
		rec.ScanSnapshot = sum.SnapshotID
		for _, s := range w.scans {
			pkgs = append(pkgs, nonNullJSON(s.Packages))
			reports = append(reports, nonNullJSON(s.Report))
		}
		if rec.SBOMPackages, err = json.Marshal(pkgs); err != nil {
			return nil, err
		}
		if len(reports) == 1 {
			rec.ScanReport = reports[0]
		} else if rec.ScanReport, err = json.Marshal(reports); err != nil {
			return nil, err
		}
		if rec.ScanSummary, err = json.Marshal(sum); err != nil {
			return nil, err
		}
	}
	if w.report != nil {
		if rec.ToolReport, err = json.Marshal(w.report); err != nil {
			return nil, err
		}
	}
	if d == DecisionPublished && p.signer != nil {
		env, err := p.signer.SignVSA(p.summary(w, rec))
		if err != nil {
			return nil, fmt.Errorf("sign verification summary: %w", err)
		}
		rec.VSA = env
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	status := StatusPublished
	if d == DecisionPendingReview {
		status = StatusPendingReview
	}
	pub.Version = Version{
		Name: w.doc.Name, Version: w.doc.Version, Status: status, ServerJSON: req.ServerJSON,
		Served: served, Vetted: metaJSON, ContentDigest: contentDigest, PublishedAt: w.now, UpdatedAt: w.now,
	}
	pub.Packages = w.pinned
	pub.Blobs = dedupeBlobs(w.blobs)
	pub.Record = rec
	return pub, nil
}

// summary builds what the VSA vouches for.
func (p *Pipeline) summary(w *work, rec VersionRecord) VerificationSummary {
	provenance := len(w.verified) > 0
	for _, vp := range w.verified {
		if vp.Provenance == nil {
			provenance = false
		}
	}
	return buildSummary(rec, w.pinned, w.pypi, provenance, w.now)
}

// buildSummary lists as subjects every pinned package's digest — for a PyPI package each
// verified file's (named by its file name, as PEP 740 names it), since a client may
// install any of them — and the tool manifest's.
func buildSummary(rec VersionRecord, pinned []PinnedPackage, pypi []PyPIPackageMeta, provenance bool, at time.Time) VerificationSummary {
	s := VerificationSummary{ServerName: rec.Name, Version: rec.Version, Result: "PASSED", Time: at,
		Policy: "vetted:namespace/" + Namespace(rec.Name)}
	files := map[int][]PyPIFilePin{}
	for _, m := range pypi {
		files[m.Index] = append(files[m.Index], m.Files...)
	}
	for _, pp := range pinned {
		if fs := files[pp.Index]; len(fs) > 0 {
			for _, f := range fs {
				s.Subjects = append(s.Subjects, Subject{Name: f.Filename, Digest: f.SHA256})
			}
			continue
		}
		s.Subjects = append(s.Subjects, Subject{Name: pp.Pinned, Digest: pp.Digest})
	}
	if rec.ToolManifestDigest != "" {
		s.Subjects = append(s.Subjects, Subject{Name: rec.Name + "@" + rec.Version + "/tools", Digest: rec.ToolManifestDigest})
	}
	for _, r := range rec.Evidence {
		s.Inputs = append(s.Inputs, Subject{Name: r.Role, Digest: r.Digest})
	}
	if provenance {
		s.Levels = []string{"SLSA_BUILD_LEVEL_2"}
	} else {
		s.Levels = []string{"SLSA_BUILD_LEVEL_0"}
	}
	return s
}

// VouchFor signs the registry's verification summary for a version from what was recorded
// at publish time — for a version a reviewer approves out of pending_review, whose envelope
// then goes into the approving Transition's VSA. pypi are the version's served PyPI pins
// (VettedMeta.PyPI), whose every file is a subject.
func VouchFor(signer VSASigner, rec VersionRecord, pinned []PinnedPackage, pypi []PyPIPackageMeta, at time.Time) ([]byte, error) {
	if signer == nil {
		return nil, fmt.Errorf("vouch for %s@%s: no signer: %w", rec.Name, rec.Version, ErrInvalid)
	}
	var provs []*ProvenanceSummary
	_ = json.Unmarshal(rec.Provenance, &provs)
	provenance := len(provs) > 0
	for _, p := range provs {
		if p == nil {
			provenance = false
		}
	}
	return signer.SignVSA(buildSummary(rec, pinned, pypi, provenance, at.UTC()))
}

func reportDigest(r *ToolReport) string {
	if r == nil {
		return ""
	}
	return r.ManifestDigest
}

func nonNullJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func dedupeBlobs(bs []Blob) []Blob {
	seen := map[string]bool{}
	var out []Blob
	for _, b := range bs {
		if !seen[b.Digest] {
			seen[b.Digest] = true
			out = append(out, b)
		}
	}
	return out
}

func dedupeRefs(rs []EvidenceRef) []EvidenceRef {
	seen := map[EvidenceRef]bool{}
	var out []EvidenceRef
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func dedupeSigners(ss []Signer) []Signer {
	seen := map[Signer]bool{}
	var out []Signer
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].For < out[j].For })
	return out
}

func mergeScanSummaries(scans []*ScanOutcome) ScanSummary {
	out := ScanSummary{Findings: map[string]int{}, Outcome: Pass}
	var reasons []string
	for _, s := range scans {
		if out.SnapshotID == "" {
			out.SnapshotID = s.SnapshotID
		}
		out.Packages += s.Summary.Packages
		out.Suppressed += s.Summary.Suppressed
		out.NotAssessed += s.Summary.NotAssessed
		for k, v := range s.Summary.Findings {
			out.Findings[k] += v
		}
		if rankOutcome(s.Summary.Outcome) > rankOutcome(out.Outcome) {
			out.Outcome = s.Summary.Outcome
		}
		if s.Summary.Reason != "" {
			reasons = append(reasons, s.Summary.Reason)
		}
	}
	out.Reason = strings.Join(reasons, "; ")
	return out
}

func rankOutcome(o Outcome) int {
	switch o {
	case Pass:
		return 0
	case Review:
		return 1
	}
	return 2
}

// VettedMeta is the object served under Vetted's _meta key with every published version.
type VettedMeta struct {
	Packages []PinnedPackage `json:"packages"`
	// NPM pins each npm package: exact version, integrity, tarball sha256 and URL, and where
	// its SBOM came from.
	NPM []NPMPackageMeta `json:"npm,omitempty"`
	// PyPI pins each PyPI package: exact version and every verified file's name and sha256.
	PyPI []PyPIPackageMeta `json:"pypi,omitempty"`
	// MCPB pins each MCP bundle: URL and the fileSha256 its bytes were verified against.
	MCPB               []MCPBPackageMeta   `json:"mcpb,omitempty"`
	ToolManifestDigest string              `json:"toolManifestDigest,omitempty"`
	Signers            []Signer            `json:"signers"`
	Provenance         []PackageProvenance `json:"provenance,omitempty"`
	Scan               *ScanSummary        `json:"scan,omitempty"`
	DecidedAt          time.Time           `json:"decidedAt"`
	// The links to Vetted's extension endpoints are not stored: the API adds them to the
	// served object at response time (migration 0008 dropped the stored copies).
}

// PackageProvenance is the provenance summary of one package.
type PackageProvenance struct {
	Package string `json:"package"`
	ProvenanceSummary
}
