package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/registry/launch"
)

// LaunchPolicy says which launch lint severities hold a version for review and which reject
// it. Severities, in order: low, medium, high, critical.
type LaunchPolicy struct {
	ReviewAt string
	RejectAt string
}

// DefaultLaunchPolicy rejects what can take the host (critical) and holds for review what
// changes what code runs (high) and what weakens the server's trust (medium).
var DefaultLaunchPolicy = LaunchPolicy{ReviewAt: launch.Medium, RejectAt: launch.Critical}

// WithLaunchPolicy sets the launch lint thresholds (default DefaultLaunchPolicy). A
// threshold may be "none" to turn that outcome off; critical findings always need at least
// a review.
func WithLaunchPolicy(lp LaunchPolicy) PipelineOption {
	return func(p *Pipeline) error {
		for _, s := range []string{lp.ReviewAt, lp.RejectAt} {
			if s != "none" && launch.SeverityRank(s) < 0 {
				return fmt.Errorf("launch policy: unknown severity %q (want low, medium, high, critical or none): %w", s, ErrInvalid)
			}
		}
		if lp.ReviewAt == "none" && lp.RejectAt == "none" {
			return fmt.Errorf("launch policy: reviewAt and rejectAt cannot both be none: a privileged container would pass unseen: %w", ErrInvalid)
		}
		p.launch = lp
		return nil
	}
}

// LaunchReport is what the launch check recorded (kept as a "launch-report" evidence blob).
type LaunchReport struct {
	Findings        []launch.Finding `json:"findings"`
	PreviousVersion string           `json:"previousVersion,omitempty"`
	Changes         []launch.Change  `json:"changes,omitempty"`
}

// maxLaunchChecks bounds the finding lines of one decision; the rest are counted.
const maxLaunchChecks = 20

// checkLaunch lints the launch configuration and diffs it against the latest published
// version's: every finding is a "launch" check named by its rule and pointer, and any change
// holds the version for review ("launch.diff").
func (p *Pipeline) checkLaunch(ctx context.Context, w *work, raw []byte) error {
	cfg, err := launch.Parse(raw)
	if err != nil {
		w.add(Check{Name: CheckLaunch, Outcome: Fail, Reason: "the launch configuration cannot be read: " + err.Error()})
		return nil
	}
	rep := LaunchReport{Findings: launch.Lint(cfg)}
	if len(rep.Findings) == 0 {
		w.add(Check{Name: CheckLaunch, Outcome: Pass, Reason: "no launch configuration findings (runtime and package arguments, environment, runtime hint, headers)"})
	}
	for i, f := range rep.Findings {
		if i == maxLaunchChecks {
			rest := rep.Findings[i:]
			w.add(Check{Name: CheckLaunch, Outcome: p.launchOutcome(rest[0].Severity), Reason: fmt.Sprintf("and %d more finding(s); the launch-report evidence lists them all", len(rest))})
			break
		}
		w.add(Check{Name: CheckLaunch, Package: launchLabel(w.doc, f.Pointer), Outcome: p.launchOutcome(f.Severity), Rule: f.Rule, Pointer: f.Pointer,
			Reason: fmt.Sprintf("%s %s at %s: %s", f.Severity, f.Rule, f.Pointer, f.Message)})
	}

	cur, err := launch.Sections(raw)
	if err != nil {
		w.add(Check{Name: CheckLaunchDiff, Outcome: Fail, Reason: "the launch configuration cannot be compared: " + err.Error()})
		return nil
	}
	latest, err := p.store.LatestPublished(ctx, w.doc.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		w.add(Check{Name: CheckLaunchDiff, Outcome: Pass, Reason: "first published version: nothing to compare"})
	case err != nil:
		return fmt.Errorf("latest version of %s: %w", w.doc.Name, err)
	default:
		rep.PreviousVersion = latest.Version
		old, err := launch.Sections(latest.ServerJSON)
		if err != nil {
			// The previous document was accepted by an older reader; compare as "all changed".
			old = nil
		}
		rep.Changes = launch.Diff(old, cur)
		if len(rep.Changes) == 0 {
			w.add(Check{Name: CheckLaunchDiff, Outcome: Pass, Reason: "launch configuration unchanged since " + latest.Version})
		} else {
			w.add(Check{Name: CheckLaunchDiff, Outcome: Review, Reason: fmt.Sprintf(
				"launch configuration changed since %s: %s; a reviewer must approve how the server is started", latest.Version, describeChanges(rep.Changes))})
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	w.blobs = append(w.blobs, NewBlob("application/json", b))
	w.refs = append(w.refs, EvidenceRef{Package: -1, Role: "launch-report", Digest: Digest(b)})
	return nil
}

func (p *Pipeline) launchOutcome(severity string) Outcome {
	r := launch.SeverityRank(severity)
	switch {
	case p.launch.RejectAt != "none" && r >= launch.SeverityRank(p.launch.RejectAt):
		return Fail
	case p.launch.ReviewAt != "none" && r >= launch.SeverityRank(p.launch.ReviewAt):
		return Review
	case r >= launch.SeverityRank(launch.Critical):
		return Review // never silently
	}
	return Pass
}

// launchLabel names the package or remote a pointer is in.
func launchLabel(doc ServerDoc, ptr string) string {
	var i int
	if _, err := fmt.Sscanf(ptr, "/packages/%d", &i); err == nil {
		for _, pk := range doc.Packages {
			if pk.Index == i {
				return pk.Label()
			}
		}
		return fmt.Sprintf("packages[%d]", i)
	}
	if _, err := fmt.Sscanf(ptr, "/remotes/%d", &i); err == nil {
		return fmt.Sprintf("remotes[%d]", i)
	}
	return ""
}

func describeChanges(cs []launch.Change) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		s := c.Label + " " + c.Kind
		if len(c.Fields) > 0 {
			s += " (" + strings.Join(c.Fields, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// ServerJSONVerifier verifies a publisher's Sigstore bundle over the submitted server.json,
// so that the launch configuration is bound to the publisher's CI identity and not only to
// whoever holds a publisher token. registry/adapt satisfies it with the namespace policies.
type ServerJSONVerifier interface {
	// RequiresServerJSON reports whether the policy of serverName requires the bundle
	// (policy require.serverJSON).
	RequiresServerJSON(serverName string) bool
	// VerifyServerJSON verifies bundle as a signature over one of digests by an identity of
	// serverName's policy. A bundle that does not verify is a *CheckError.
	VerifyServerJSON(ctx context.Context, serverName string, digests []string, bundle []byte) (*VerifiedPackage, error)
}

// WithServerJSONVerifier enables publisher signatures over server.json.
func WithServerJSONVerifier(v ServerJSONVerifier) PipelineOption {
	return func(p *Pipeline) error { p.sjv = v; return nil }
}

// ServerJSONBundleHint tells a publisher how to send the bundle.
const ServerJSONBundleHint = "sign the exact bytes you submit, or their RFC 8785 canonical form, with `cosign sign-blob --bundle` or `cosign attest-blob --bundle`"

func (p *Pipeline) checkServerJSON(ctx context.Context, w *work, req PublishRequest, contentDigest string) {
	const label = "server.json"
	if len(req.ServerJSONBundle) == 0 {
		if p.sjv != nil && p.sjv.RequiresServerJSON(w.doc.Name) {
			w.add(Check{Name: CheckServerJSONSignature, Package: label, Outcome: Fail, Reason: fmt.Sprintf(
				"the namespace policy requires a signed server.json: send a Sigstore bundle in the Vetted-ServerJSON-Bundle header (vetted publish --server-json-bundle FILE); %s (its RFC 8785 digest is %s)",
				ServerJSONBundleHint, contentDigest)})
		}
		return
	}
	if p.sjv == nil {
		w.add(Check{Name: CheckServerJSONSignature, Package: label, Outcome: Fail, Reason: "a server.json bundle was sent, but this registry verifies none; publish without it or ask the operator to enable it"})
		return
	}
	vp, err := p.sjv.VerifyServerJSON(ctx, w.doc.Name, []string{contentDigest, Digest(req.ServerJSON)}, req.ServerJSONBundle)
	if err != nil {
		var ce *CheckError
		reason := err.Error()
		if errors.As(err, &ce) {
			reason = ce.Reason
		}
		w.add(Check{Name: CheckServerJSONSignature, Package: label, Outcome: Fail, Reason: "the server.json bundle does not verify: " + reason})
		return
	}
	for _, c := range vp.Checks {
		c.Name, c.Package = CheckServerJSONSignature, label
		w.add(c)
	}
	if len(vp.Checks) == 0 {
		w.add(Check{Name: CheckServerJSONSignature, Package: label, Outcome: Fail, Reason: "the verifier returned no verdict"})
		return
	}
	for _, s := range vp.Signers {
		s.For = "serverJSON"
		w.signers = append(w.signers, s)
	}
	for _, rb := range vp.Evidence {
		w.blobs = append(w.blobs, rb.Blob)
		w.refs = append(w.refs, EvidenceRef{Package: -1, Role: rb.Role, Digest: rb.Blob.Digest})
	}
}
