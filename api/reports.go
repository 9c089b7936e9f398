package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/vex"
)

// VersionReports is a version's scan reports (one per OCI package) with the VEX statements
// in effect now applied.
type VersionReports struct {
	Server  string           `json:"server"`
	Version string           `json:"version"`
	Status  string           `json:"status"`
	Reports []*report.Report `json:"reports"`
}

// FindingList is a registry-wide list of findings.
type FindingList struct {
	Findings []ScanFinding `json:"findings"`
}

// ScanFinding is one finding of one version's latest scan.
type ScanFinding struct {
	Server        string               `json:"server"`
	Version       string               `json:"version"`
	Status        string               `json:"status" doc:"The version's status"`
	Package       FindingPackage       `json:"package"`
	Vulnerability FindingVulnerability `json:"vulnerability"`
	Fixed         []string             `json:"fixed" doc:"Versions of the package that fix it"`
	Suppressed    *vex.Statement       `json:"suppressed,omitempty" doc:"The VEX statement that suppresses it"`
	VEX           *vex.Statement       `json:"vex,omitempty" doc:"An applicable statement that does not suppress it"`
}

// FindingPackage is the affected package.
type FindingPackage struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl,omitempty"`
}

// FindingVulnerability is the vulnerability (an alias group).
type FindingVulnerability struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Summary  string   `json:"summary,omitempty"`
	Severity string   `json:"severity"`
	Score    float64  `json:"score,omitempty"`
}

// ScanFindings converts registry findings to their wire form.
func ScanFindings(fs []registry.RegistryFinding) []ScanFinding {
	out := make([]ScanFinding, 0, len(fs))
	for _, f := range fs {
		out = append(out, ScanFinding{Server: f.Server, Version: f.Version, Status: string(f.Status),
			Package:       FindingPackage{Name: f.Package.Name, Version: f.Package.Version, Ecosystem: f.Package.Ecosystem, PURL: f.Package.PURL},
			Vulnerability: FindingVulnerability{ID: f.Vulnerability.ID, Aliases: f.Vulnerability.Aliases, Summary: f.Vulnerability.Summary, Severity: f.Vulnerability.Severity, Score: f.Vulnerability.Score},
			Fixed:         f.Fixed, Suppressed: f.Suppressed, VEX: f.VEX})
	}
	return out
}

// Affected answers "which servers are affected by this vulnerability".
type Affected struct {
	Vulnerability string           `json:"vulnerability"`
	Servers       []AffectedServer `json:"servers" doc:"Distinct published versions with an unsuppressed finding"`
	Findings      []ScanFinding    `json:"findings"`
}

// AffectedServer is one affected version.
type AffectedServer struct {
	Server  string `json:"server"`
	Version string `json:"version"`
}

// MaxVulnIDLength bounds vulnerability ids in queries.
const MaxVulnIDLength = 128

func checkVulnID(loc, id string) error {
	if len(id) > MaxVulnIDLength {
		return badParam(loc, nil, "longer than %d characters", MaxVulnIDLength)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return badParam(loc, nil, "%q is not a vulnerability id (GHSA-…, CVE-…, PYSEC-…)", id)
		}
	}
	return nil
}

// AffectedBy converts findings to the distinct affected versions.
func AffectedBy(fs []registry.RegistryFinding) []AffectedServer {
	seen := map[AffectedServer]bool{}
	out := []AffectedServer{}
	for _, f := range fs {
		a := AffectedServer{Server: f.Server, Version: f.Version}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func registerReports(api huma.API, s *Server) {
	type reportInput struct {
		VersionParams
		Format string `query:"format" enum:"json,sarif" default:"json" doc:"Vetted's JSON reports or SARIF 2.1.0"`
	}
	op := s.reviewOp(api, "get-version-scan-reports", http.MethodGet, ReviewPrefix+"/servers/{serverName}/versions/{version}/scan",
		"Scan reports of a version", "The version's scan reports in any status, with the VEX statements in effect now applied.",
		http.StatusNotFound)
	op.Responses = map[string]*huma.Response{"200": {Description: "The reports", Content: map[string]*huma.MediaType{
		"application/json": {Schema: &huma.Schema{Type: "object"}}, "application/sarif+json": {Schema: &huma.Schema{Type: "object"}}}}}
	huma.Register(api, op, func(ctx context.Context, in *reportInput) (*reviewRawOutput, error) {
		k, err := in.key()
		if err != nil {
			return nil, s.reviewProblem(err)
		}
		v, rs, err := s.review.Desk.Reports(ctx, k)
		if err != nil {
			return nil, s.reviewProblem(notFound(err, "scan report of %s@%s", k.Name, k.Version))
		}
		if in.Format == "sarif" {
			b, err := registry.SARIF(rs, s.review.ToolVersion)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			return rawJSON("application/sarif+json", b), nil
		}
		b, err := json.Marshal(VersionReports{Server: v.Name, Version: v.Version, Status: string(v.Status), Reports: rs})
		if err != nil {
			return nil, s.reviewProblem(err)
		}
		return rawJSON("application/json", b), nil
	})

	type findingsInput struct {
		Vulnerability     string   `query:"vulnerability" doc:"Keep findings whose id or any alias is this (GHSA-…, CVE-…)"`
		Status            []string `query:"status" enum:"published,quarantined,pending_review,rejected,deprecated" doc:"Version statuses to look at (default published and quarantined)"`
		IncludeSuppressed bool     `query:"includeSuppressed" doc:"Also list findings a VEX statement suppresses"`
	}
	huma.Register(api, s.reviewOp(api, "list-open-findings", http.MethodGet, ReviewPrefix+"/findings", "Open findings",
		"Every finding of the latest scan of every version, across the registry, most severe first, with the VEX statements in effect now applied."),
		func(ctx context.Context, in *findingsInput) (*struct{ Body FindingList }, error) {
			if err := checkVulnID("query.vulnerability", in.Vulnerability); err != nil {
				return nil, s.reviewProblem(err)
			}
			q := registry.FindingQuery{Vulnerability: in.Vulnerability, IncludeSuppressed: in.IncludeSuppressed}
			for _, st := range in.Status {
				q.Statuses = append(q.Statuses, registry.Status(st))
			}
			fs, err := s.review.Desk.Findings(ctx, q)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			return &struct{ Body FindingList }{Body: FindingList{Findings: ScanFindings(fs)}}, nil
		})

	type vulnInput struct {
		ID string `path:"id" doc:"A vulnerability id or any of its aliases" example:"CVE-2020-8203"`
	}
	huma.Register(api, s.reviewOp(api, "get-affected-servers", http.MethodGet, ReviewPrefix+"/vulnerabilities/{id}", "Servers affected by a vulnerability",
		"Which published servers are affected by GHSA-… / CVE-…: any id of the vulnerability's alias group matches. Findings a VEX statement suppresses are not affected."),
		func(ctx context.Context, in *vulnInput) (*struct{ Body Affected }, error) {
			if err := checkVulnID("path.id", in.ID); err != nil {
				return nil, s.reviewProblem(err)
			}
			fs, err := s.review.Desk.Findings(ctx, registry.FindingQuery{Vulnerability: in.ID, Statuses: []registry.Status{registry.StatusPublished}})
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			return &struct{ Body Affected }{Body: Affected{Vulnerability: in.ID, Servers: AffectedBy(fs), Findings: ScanFindings(fs)}}, nil
		})
}

// reviewRawOutput writes a body as is with its content type.
type reviewRawOutput struct {
	Body func(huma.Context)
}

func rawJSON(contentType string, b []byte) *reviewRawOutput {
	b = bytes.TrimSpace(b)
	return &reviewRawOutput{Body: func(c huma.Context) {
		c.SetHeader("Content-Type", contentType)
		c.SetHeader("Content-Length", strconv.Itoa(len(b)+1))
		c.SetHeader("Cache-Control", "no-store")
		c.SetStatus(http.StatusOK)
		_, _ = c.BodyWriter().Write(append(b, '\n'))
	}}
}
