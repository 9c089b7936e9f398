package report

import (
	"sort"
	"strconv"
	"time"

	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/sbom"
	"github.com/vetted-dev/vetted/scan/vex"
)

// SchemaVersion identifies the JSON report's schema (docs/scan-report.md).
const SchemaVersion = "vetted.dev/scan-report/v1"

// Report is the scan report. Its JSON form is stable; fields are only ever added.
type Report struct {
	SchemaVersion string        `json:"schemaVersion"`
	GeneratedAt   time.Time     `json:"generatedAt"`
	Snapshot      Snapshot      `json:"snapshot"`
	SBOM          SBOM          `json:"sbom"`
	Product       *vex.Product  `json:"product,omitempty"`
	Summary       Summary       `json:"summary"`
	Findings      []Finding     `json:"findings"`
	NotAssessed   []NotAssessed `json:"notAssessed"`
	Policy        *Decision     `json:"policy,omitempty"`
}

// Snapshot names the OSV snapshot the scan was made against.
type Snapshot struct {
	ID string `json:"id"`
}

// SBOM describes the scanned SBOM.
type SBOM struct {
	Format      string `json:"format,omitempty"`
	SpecVersion string `json:"specVersion,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Source      string `json:"source,omitempty"` // file name or digest, as the caller gives it
	Packages    int    `json:"packages"`
}

// Summary counts the report's content.
type Summary struct {
	Packages    int `json:"packages"`
	Assessed    int `json:"assessed"`
	NotAssessed int `json:"notAssessed"`
	Findings    int `json:"findings"`
	Suppressed  int `json:"suppressed"`
	// BySeverity counts findings that are not suppressed, by severity level.
	BySeverity map[match.Level]int `json:"bySeverity"`
}

// Package is a package as reports show it.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl,omitempty"`
}

// Vulnerability is a finding's vulnerability (an alias group).
type Vulnerability struct {
	ID             string   `json:"id"`
	Aliases        []string `json:"aliases"`
	Records        []string `json:"records"`
	Summary        string   `json:"summary,omitempty"`
	Severity       string   `json:"severity"` // none, low, medium, high, critical, unknown
	Score          float64  `json:"score,omitempty"`
	Vector         string   `json:"vector,omitempty"`
	SeveritySource string   `json:"severitySource,omitempty"`
	Modified       string   `json:"modified,omitempty"`
}

// Finding is one vulnerability affecting one package version.
type Finding struct {
	Package       Package       `json:"package"`
	Vulnerability Vulnerability `json:"vulnerability"`
	Fixed         []string      `json:"fixed"`
	Uncertain     bool          `json:"uncertain,omitempty"`
	// Suppressed is the VEX statement (not_affected or fixed) that takes the finding out of the
	// policy; the finding stays in the report.
	Suppressed *vex.Statement `json:"suppressed,omitempty"`
	// VEX is an applicable statement that does not suppress (affected, under_investigation).
	VEX *vex.Statement `json:"vex,omitempty"`
}

// NotAssessed is a package the mirror cannot judge.
type NotAssessed struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl,omitempty"`
	Reason    string `json:"reason"`
}

// Policy decides whether a report fails.
type Policy struct {
	// FailOn is the lowest severity that fails; empty never fails on findings. Findings of
	// unknown severity fail every threshold.
	FailOn match.Level
	// AllowNotAssessedUnsafe lets packages the mirror cannot judge pass. By default, with a
	// threshold set, any not-assessed package fails the policy.
	AllowNotAssessedUnsafe bool
}

// Decision is the policy's outcome.
type Decision struct {
	FailOn           string   `json:"failOn,omitempty"`
	AllowNotAssessed bool     `json:"allowNotAssessed,omitempty"`
	Failed           bool     `json:"failed"`
	Reasons          []string `json:"reasons"`
}

// Input is everything a report is built from.
type Input struct {
	Result   *match.Result
	Document *sbom.Document // optional: format, version, subject
	Source   string         // optional: where the SBOM came from
	Product  *vex.Product   // optional: what VEX statements must name
	VEX      *vex.Set       // optional
	Policy   *Policy        // optional
	Now      time.Time      // for VEX expiry and generatedAt
}

// Build assembles the report.
func Build(in Input) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   in.Now.UTC(),
		Snapshot:      Snapshot{ID: in.Result.SnapshotID},
		SBOM:          SBOM{Source: in.Source, Packages: in.Result.Packages},
		Product:       in.Product,
		Findings:      []Finding{},
		NotAssessed:   []NotAssessed{},
		Summary:       Summary{Packages: in.Result.Packages, BySeverity: map[match.Level]int{}},
	}
	if d := in.Document; d != nil {
		r.SBOM.Format, r.SBOM.SpecVersion, r.SBOM.Subject = string(d.Format), d.SpecVersion, d.Subject
	}
	prod := vex.Product{}
	if in.Product != nil {
		prod = *in.Product
	}
	for _, f := range in.Result.Findings {
		rf := Finding{
			Package: pkgOf(f.Package),
			Vulnerability: Vulnerability{
				ID:             f.Vulnerability.ID,
				Aliases:        nonNil(f.Vulnerability.Aliases),
				Records:        nonNil(f.Vulnerability.Records),
				Summary:        f.Vulnerability.Summary,
				Severity:       string(f.Vulnerability.Severity.Level),
				Score:          f.Vulnerability.Severity.Score,
				Vector:         f.Vulnerability.Severity.Vector,
				SeveritySource: f.Vulnerability.Severity.Source,
				Modified:       f.Vulnerability.Modified,
			},
			Fixed:     nonNil(f.Fixed),
			Uncertain: f.Uncertain,
		}
		if in.VEX != nil {
			ids := append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...)
			pkgIDs := []string{f.Package.PURL, f.Package.Name + "@" + f.Package.Version, f.Package.Name}
			if st := in.VEX.Lookup(prod, ids, pkgIDs, in.Now); st != nil {
				if st.Suppresses() {
					rf.Suppressed = st
				} else {
					rf.VEX = st
				}
			}
		}
		r.Findings = append(r.Findings, rf)
		if rf.Suppressed != nil {
			r.Summary.Suppressed++
		} else {
			r.Summary.BySeverity[f.Vulnerability.Severity.Level]++
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		ra, rb := match.Level(a.Vulnerability.Severity).Rank(), match.Level(b.Vulnerability.Severity).Rank()
		if ra != rb {
			return ra > rb
		}
		if a.Package.Name != b.Package.Name {
			return a.Package.Name < b.Package.Name
		}
		if a.Package.Version != b.Package.Version {
			return a.Package.Version < b.Package.Version
		}
		return a.Vulnerability.ID < b.Vulnerability.ID
	})
	for _, n := range in.Result.NotAssessed {
		p := pkgOf(n.Package)
		r.NotAssessed = append(r.NotAssessed, NotAssessed{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL, Reason: n.Reason})
	}
	r.Summary.Findings = len(r.Findings)
	r.Summary.NotAssessed = len(r.NotAssessed)
	r.Summary.Assessed = r.Summary.Packages - r.Summary.NotAssessed
	if in.Policy != nil {
		r.Policy = Evaluate(r, *in.Policy)
	}
	return r
}

// Evaluate applies a policy to a report.
func Evaluate(r *Report, p Policy) *Decision {
	d := &Decision{FailOn: string(p.FailOn), AllowNotAssessed: p.AllowNotAssessedUnsafe, Reasons: []string{}}
	if p.FailOn == "" {
		return d
	}
	counts := map[string]int{}
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			continue
		}
		if match.Level(f.Vulnerability.Severity).Rank() >= p.FailOn.Rank() {
			counts[f.Vulnerability.Severity]++
		}
	}
	for _, l := range []match.Level{match.LevelUnknown, match.LevelCritical, match.LevelHigh, match.LevelMedium, match.LevelLow} {
		if n := counts[string(l)]; n > 0 {
			d.Failed = true
			d.Reasons = append(d.Reasons, plural(n, "finding")+" of severity "+string(l)+" (fail-on "+string(p.FailOn)+")")
		}
	}
	if len(r.NotAssessed) > 0 && !p.AllowNotAssessedUnsafe {
		d.Failed = true
		d.Reasons = append(d.Reasons, plural(len(r.NotAssessed), "package")+" not assessed by the OSV mirror")
	}
	return d
}

func plural(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}

func pkgOf(p sbom.Package) Package {
	return Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
