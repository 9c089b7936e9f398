package adapt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/sbom"
	"github.com/vetted-dev/vetted/scan/vex"
)

// ScanPolicy decides a scan's check: Fail when an unsuppressed finding is at or above
// FailOn; Review when one is at or above ReviewOn (below FailOn), or when packages could not
// be assessed (an exception is needed: a VEX statement or a reviewer).
type ScanPolicy struct {
	FailOn   match.Level
	ReviewOn match.Level
}

// DefaultScanPolicy fails on critical and high findings and holds medium ones for review.
var DefaultScanPolicy = ScanPolicy{FailOn: "high", ReviewOn: "medium"}

// Scanner is a registry.Scanner over an OSV mirror.
type Scanner struct {
	index  func() *match.Index
	policy ScanPolicy
	vex    func(ctx context.Context) (*vex.Set, error)
	opts   []scan.Option
}

// NewScanner scans against the index current() returns (e.g. (*scan.Mirror).Current), with
// the VEX statements vexSet returns (nil: none).
func NewScanner(current func() *match.Index, p ScanPolicy, vexSet func(ctx context.Context) (*vex.Set, error), opts ...scan.Option) (*Scanner, error) {
	if current == nil {
		return nil, errors.New("adapt: scanner needs an index")
	}
	for _, l := range []match.Level{p.FailOn, p.ReviewOn} {
		if l != "" {
			if _, ok := match.ParseLevel(string(l)); !ok {
				return nil, fmt.Errorf("adapt: unknown severity %q", l)
			}
		}
	}
	return &Scanner{index: current, policy: p, vex: vexSet, opts: opts}, nil
}

// ScanSBOM implements registry.Scanner.
func (s *Scanner) ScanSBOM(ctx context.Context, data []byte, p registry.ScanProduct) (*registry.ScanOutcome, error) {
	sc, set, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	prod := &vex.Product{Digest: p.Digest, Name: p.ServerName, Version: p.Version}
	rep, doc, err := sc.Scan(ctx, bytes.NewReader(data), scan.Request{Source: p.Digest, Product: prod, VEX: set})
	if err != nil {
		return nil, fmt.Errorf("the verified SBOM cannot be scanned: %w", err)
	}
	return s.outcome(rep, doc)
}

// Rescan scans a stored package list (the Packages of a ScanOutcome) again, against the
// current index and VEX statements.
func (s *Scanner) Rescan(ctx context.Context, packages json.RawMessage, p registry.ScanProduct) (*registry.ScanOutcome, error) {
	var doc sbom.Document
	if err := json.Unmarshal(packages, &doc); err != nil {
		return nil, fmt.Errorf("stored SBOM package list: %w", err)
	}
	sc, set, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	prod := &vex.Product{Digest: p.Digest, Name: p.ServerName, Version: p.Version}
	rep := sc.ScanPackages(&doc, scan.Request{Source: p.Digest, Product: prod, VEX: set})
	return s.outcome(rep, &doc)
}

func (s *Scanner) prepare(ctx context.Context) (*scan.Scanner, *vex.Set, error) {
	idx := s.index()
	if idx == nil {
		return nil, nil, errors.New("no OSV snapshot is loaded; run `vetted osv sync`")
	}
	sc, err := scan.NewScanner(idx, s.opts...)
	if err != nil {
		return nil, nil, err
	}
	var set *vex.Set
	if s.vex != nil {
		if set, err = s.vex(ctx); err != nil {
			return nil, nil, fmt.Errorf("VEX statements: %w", err)
		}
	}
	return sc, set, nil
}

func (s *Scanner) outcome(rep *report.Report, doc *sbom.Document) (*registry.ScanOutcome, error) {
	sum := registry.ScanSummary{SnapshotID: rep.Snapshot.ID, Packages: rep.Summary.Packages, Findings: map[string]int{},
		Suppressed: rep.Summary.Suppressed, NotAssessed: rep.Summary.NotAssessed, Outcome: registry.Pass}
	for l, n := range rep.Summary.BySeverity {
		sum.Findings[string(l)] = n
	}
	fail := report.Evaluate(rep, report.Policy{FailOn: s.policy.FailOn, AllowNotAssessedUnsafe: true})
	switch {
	case s.policy.FailOn != "" && fail.Failed:
		sum.Outcome, sum.Reason = registry.Fail, "vulnerabilities at or above "+string(s.policy.FailOn)+": "+findingsAtOrAbove(rep, s.policy.FailOn)+
			"; upgrade the affected packages, or record a VEX statement if the image is not affected"
		rep.Policy = fail
	default:
		var reasons []string
		if s.policy.ReviewOn != "" {
			if d := report.Evaluate(rep, report.Policy{FailOn: s.policy.ReviewOn, AllowNotAssessedUnsafe: true}); d.Failed {
				reasons = append(reasons, "vulnerabilities at or above "+string(s.policy.ReviewOn)+" need an exception: "+findingsAtOrAbove(rep, s.policy.ReviewOn))
			}
		}
		if rep.Summary.NotAssessed > 0 {
			eco := map[string]bool{}
			for _, na := range rep.NotAssessed {
				eco[na.Ecosystem] = true
			}
			var es []string
			for e := range eco {
				es = append(es, e)
			}
			sort.Strings(es)
			reasons = append(reasons, fmt.Sprintf("%d package(s) not assessed (ecosystems %s not in the OSV mirror): an exception is needed",
				rep.Summary.NotAssessed, strings.Join(es, ", ")))
		}
		if len(reasons) > 0 {
			sum.Outcome, sum.Reason = registry.Review, strings.Join(reasons, "; ")
		} else {
			sum.Reason = fmt.Sprintf("%d package(s) scanned, %d finding(s), none at or above %s", rep.Summary.Packages, rep.Summary.Findings, orNone(s.policy.ReviewOn))
		}
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return nil, err
	}
	pk, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &registry.ScanOutcome{SnapshotID: rep.Snapshot.ID, Packages: pk, Report: bytes.TrimSpace(buf.Bytes()), Summary: sum}, nil
}

// findingsAtOrAbove lists the unsuppressed findings at or above l: "GHSA-… (high) in lodash
// 4.17.0, fixed in 4.17.21".
func findingsAtOrAbove(rep *report.Report, l match.Level) string {
	var out []string
	for _, f := range rep.Findings {
		if f.Suppressed != nil || match.Level(f.Vulnerability.Severity).Rank() < l.Rank() {
			continue
		}
		s := fmt.Sprintf("%s (%s) in %s %s", f.Vulnerability.ID, f.Vulnerability.Severity, f.Package.Name, f.Package.Version)
		if len(f.Fixed) > 0 {
			s += ", fixed in " + strings.Join(f.Fixed, ", ")
		}
		out = append(out, s)
	}
	const show = 5
	if len(out) > show {
		out = append(out[:show], fmt.Sprintf("and %d more", len(out)-show))
	}
	return strings.Join(out, "; ")
}

func orNone(l match.Level) string {
	if l == "" {
		return "any threshold"
	}
	return string(l)
}

// SARIF renders a stored JSON scan report as SARIF 2.1.0: one report, or the array of
// reports a version with several packages stores (one run per report), through the same
// registry.SARIF the review API uses.
func SARIF(toolVersion string) func(report []byte) ([]byte, error) {
	return func(data []byte) ([]byte, error) {
		rs, err := registry.DecodeReports(data)
		if err != nil {
			return nil, err
		}
		return registry.SARIF(rs, toolVersion)
	}
}
