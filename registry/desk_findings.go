package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/vex"
)

// DecodeReports decodes a stored scan report: one report object, or an array of them (one
// per OCI package).
func DecodeReports(raw json.RawMessage) ([]*report.Report, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var rs []*report.Report
		if err := json.Unmarshal(raw, &rs); err != nil {
			return nil, fmt.Errorf("stored scan reports: %w", err)
		}
		return rs, nil
	}
	var r report.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("stored scan report: %w", err)
	}
	return []*report.Report{&r}, nil
}

// ApplyVEX re-applies the statements of set to a report's findings as of now, so that a
// VEX document recorded (or withdrawn) after the scan shows at once: suppression, attached
// statements and the summary's counts are recomputed.
func ApplyVEX(r *report.Report, set *vex.Set, now time.Time) {
	prod := vex.Product{}
	if r.Product != nil {
		prod = *r.Product
	}
	r.Summary.Suppressed = 0
	r.Summary.BySeverity = map[match.Level]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Suppressed, f.VEX = nil, nil
		ids := append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...)
		pkgIDs := []string{f.Package.PURL, f.Package.Name + "@" + f.Package.Version, f.Package.Name}
		if st := set.Lookup(prod, ids, pkgIDs, now); st != nil {
			if st.Suppresses() {
				f.Suppressed = st
			} else {
				f.VEX = st
			}
		}
		if f.Suppressed != nil {
			r.Summary.Suppressed++
		} else {
			r.Summary.BySeverity[match.Level(f.Vulnerability.Severity)]++
		}
	}
}

// Reports returns a version's scan reports with the VEX statements in effect now applied.
func (d *Desk) Reports(ctx context.Context, k Key) (Version, []*report.Report, error) {
	v, rec, err := d.Record(ctx, k)
	if err != nil {
		return Version{}, nil, err
	}
	if rec == nil || len(rec.ScanReport) == 0 {
		return v, nil, fmt.Errorf("%s@%s has no scan report: %w", k.Name, k.Version, ErrNotFound)
	}
	rs, err := DecodeReports(rec.ScanReport)
	if err != nil {
		return v, nil, err
	}
	set, err := d.VEXSet(ctx)
	if err != nil {
		return v, nil, err
	}
	now := d.clock()
	for _, r := range rs {
		ApplyVEX(r, set, now)
	}
	return v, rs, nil
}

// SARIF renders reports as one SARIF 2.1.0 log (one run per report).
func SARIF(rs []*report.Report, toolVersion string) ([]byte, error) {
	var runs []json.RawMessage
	var head map[string]json.RawMessage
	for _, r := range rs {
		var buf bytes.Buffer
		uri := r.SBOM.Subject
		if uri == "" {
			uri = "sbom"
		}
		if err := r.WriteSARIF(&buf, uri, toolVersion); err != nil {
			return nil, err
		}
		var log map[string]json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			return nil, err
		}
		var rr []json.RawMessage
		if err := json.Unmarshal(log["runs"], &rr); err != nil {
			return nil, err
		}
		runs = append(runs, rr...)
		head = log
	}
	if head == nil {
		head = map[string]json.RawMessage{"version": json.RawMessage(`"2.1.0"`),
			"$schema": json.RawMessage(`"https://json.schemastore.org/sarif-2.1.0.json"`)}
	}
	if runs == nil {
		runs = []json.RawMessage{}
	}
	rb, err := json.Marshal(runs)
	if err != nil {
		return nil, err
	}
	head["runs"] = rb
	return json.MarshalIndent(head, "", "  ")
}

// RegistryFinding is one finding of one version's scan, as the registry-wide views list it.
type RegistryFinding struct {
	Server  string `json:"server"`
	Version string `json:"version"`
	Status  Status `json:"status"`
	report.Finding
}

// FindingQuery selects registry-wide findings.
type FindingQuery struct {
	// Vulnerability, when set, keeps findings whose id or any alias equals it
	// (case-insensitive): "which servers are affected by GHSA-… / CVE-…".
	Vulnerability string
	// Statuses of versions to look at; empty means published and quarantined.
	Statuses []Status
	// IncludeSuppressed keeps findings a VEX statement suppresses.
	IncludeSuppressed bool
}

// StoredReport is a version's latest scan report as stored.
type StoredReport struct {
	Key    Key
	Status Status
	Report json.RawMessage
}

// ReportLister returns every stored scan report of the versions in statuses, in (name,
// version) order, in one query.
type ReportLister interface {
	ScanReports(ctx context.Context, statuses ...Status) ([]StoredReport, error)
}

// Findings lists the findings of every matching version's latest scan, with the VEX
// statements in effect now applied, most severe first.
func (d *Desk) Findings(ctx context.Context, q FindingQuery) ([]RegistryFinding, error) {
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = []Status{StatusPublished, StatusQuarantined}
	}
	set, err := d.VEXSet(ctx)
	if err != nil {
		return nil, err
	}
	now := d.clock()
	want := strings.ToUpper(strings.TrimSpace(q.Vulnerability))
	out := []RegistryFinding{}
	srs, err := d.store.ScanReports(ctx, statuses...)
	if err != nil {
		return nil, err
	}
	for _, sr := range srs {
		if len(sr.Report) == 0 {
			continue
		}
		rs, err := DecodeReports(sr.Report)
		if err != nil {
			return nil, fmt.Errorf("%s@%s: %w", sr.Key.Name, sr.Key.Version, err)
		}
		for _, r := range rs {
			ApplyVEX(r, set, now)
			for _, f := range r.Findings {
				if f.Suppressed != nil && !q.IncludeSuppressed {
					continue
				}
				if want != "" && !hasID(f.Vulnerability, want) {
					continue
				}
				out = append(out, RegistryFinding{Server: sr.Key.Name, Version: sr.Key.Version, Status: sr.Status, Finding: f})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := match.Level(out[i].Vulnerability.Severity).Rank(), match.Level(out[j].Vulnerability.Severity).Rank()
		if ri != rj {
			return ri > rj
		}
		if out[i].Server != out[j].Server {
			return out[i].Server < out[j].Server
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func hasID(v report.Vulnerability, want string) bool {
	if strings.ToUpper(v.ID) == want {
		return true
	}
	for _, a := range v.Aliases {
		if strings.ToUpper(a) == want {
			return true
		}
	}
	return false
}

// VulnSummary counts, per vulnerability, the versions it affects.
type VulnSummary struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Severity string   `json:"severity"`
	Summary  string   `json:"summary,omitempty"`
	Versions int      `json:"versions"`
}

// TopVulnerabilities groups findings by vulnerability, most severe and widespread first.
func TopVulnerabilities(fs []RegistryFinding, n int) []VulnSummary {
	byID := map[string]*VulnSummary{}
	seen := map[string]bool{}
	for _, f := range fs {
		s := byID[f.Vulnerability.ID]
		if s == nil {
			s = &VulnSummary{ID: f.Vulnerability.ID, Aliases: f.Vulnerability.Aliases, Severity: f.Vulnerability.Severity, Summary: f.Vulnerability.Summary}
			byID[f.Vulnerability.ID] = s
		}
		k := f.Vulnerability.ID + "\x00" + f.Server + "@" + f.Version
		if !seen[k] {
			seen[k] = true
			s.Versions++
		}
	}
	out := make([]VulnSummary, 0, len(byID))
	for _, s := range byID {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := match.Level(out[i].Severity).Rank(), match.Level(out[j].Severity).Rank()
		if ri != rj {
			return ri > rj
		}
		if out[i].Versions != out[j].Versions {
			return out[i].Versions > out[j].Versions
		}
		return out[i].ID < out[j].ID
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
