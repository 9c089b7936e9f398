package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/sbom"
	"github.com/vetted-dev/vetted/scan/vex"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func record(id, name, sev string, aliases ...string) osvtest.Record {
	al, _ := json.Marshal(aliases)
	sevField := ""
	if strings.HasPrefix(sev, "CVSS:") {
		sevField = `"severity":[{"type":"CVSS_V3","score":"` + sev + `"}],`
	} else if sev != "" {
		sevField = `"database_specific":{"severity":"` + sev + `"},`
	}
	return osvtest.Record{Name: id + ".json", Data: []byte(`{"id":"` + id + `","modified":"2024-01-01T00:00:00Z","summary":"summary of ` + id + `","aliases":` + string(al) + `,` + sevField +
		`"affected":[{"package":{"ecosystem":"npm","name":"` + name + `"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`)}
}

func result(t *testing.T) (*match.Result, *sbom.Document) {
	t.Helper()
	dir := t.TempDir()
	osvtest.WriteMirror(t, dir, "", map[string][]osvtest.Record{"npm": {
		record("GHSA-crit-0000-0000", "a", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVE-2024-0001"),
		record("GHSA-med-0000-0000", "b", "MODERATE"),
		record("GHSA-low-0000-0000", "c", "LOW"),
		record("GHSA-unk-0000-0000", "d", ""),
	}})
	snap, err := osv.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := match.Build(context.Background(), snap)
	if err != nil {
		t.Fatal(err)
	}
	doc := &sbom.Document{Format: sbom.FormatCycloneDX, SpecVersion: "1.6", Packages: []sbom.Package{
		sbom.FromPURL("pkg:npm/a@1.0.0", "", ""), sbom.FromPURL("pkg:npm/b@1.0.0", "", ""),
		sbom.FromPURL("pkg:npm/c@1.0.0", "", ""), sbom.FromPURL("pkg:npm/d@1.0.0", "", ""),
		sbom.FromPURL("pkg:apk/alpine/zlib@1.2.12-r1", "", ""),
	}}
	return idx.Match(doc.Packages), doc
}

func suppressA(t *testing.T) *vex.Set {
	t.Helper()
	stmts, err := vex.Parse([]byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec","timestamp":"2024-01-01T00:00:00Z","version":1,
	"statements":[{"vulnerability":{"name":"CVE-2024-0001"},"products":[{"@id":"sha256:abcd"}],"status":"not_affected","justification":"vulnerable_code_not_present"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return vex.NewSet(stmts...)
}

func TestPolicy(t *testing.T) {
	res, doc := result(t)
	prod := &vex.Product{Digest: "sha256:abcd"}
	tests := []struct {
		name    string
		policy  report.Policy
		vex     *vex.Set
		failed  bool
		reasons string
	}{
		{"critical threshold", report.Policy{FailOn: match.LevelCritical}, nil, true,
			"1 finding of severity unknown (fail-on critical); 1 finding of severity critical (fail-on critical); 1 package not assessed by the OSV mirror"},
		{"critical suppressed by VEX, not-assessed allowed", report.Policy{FailOn: match.LevelCritical, AllowNotAssessedUnsafe: true}, suppressA(t), true,
			"1 finding of severity unknown (fail-on critical)"},
		{"low threshold counts everything", report.Policy{FailOn: match.LevelLow, AllowNotAssessedUnsafe: true}, nil, true,
			"1 finding of severity unknown (fail-on low); 1 finding of severity critical (fail-on low); 1 finding of severity medium (fail-on low); 1 finding of severity low (fail-on low)"},
		{"no threshold never fails", report.Policy{}, nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := report.Build(report.Input{Result: res, Document: doc, Product: prod, VEX: tc.vex, Policy: &tc.policy, Now: now})
			if r.Policy.Failed != tc.failed || strings.Join(r.Policy.Reasons, "; ") != tc.reasons {
				t.Fatalf("failed=%v reasons=%q, want %v %q", r.Policy.Failed, strings.Join(r.Policy.Reasons, "; "), tc.failed, tc.reasons)
			}
		})
	}
}

func TestJSONReport(t *testing.T) {
	res, doc := result(t)
	r := report.Build(report.Input{Result: res, Document: doc, Source: "bom.json", Product: &vex.Product{Digest: "sha256:abcd"},
		VEX: suppressA(t), Policy: &report.Policy{FailOn: match.LevelHigh}, Now: now})
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		SchemaVersion string `json:"schemaVersion"`
		Snapshot      struct{ ID string }
		Summary       struct {
			Packages, Assessed, NotAssessed, Findings, Suppressed int
			BySeverity                                            map[string]int
		}
		Findings []struct {
			Package       struct{ Name, Version, Ecosystem, PURL string }
			Vulnerability struct {
				ID       string
				Aliases  []string
				Summary  string
				Severity string
				Score    float64
			}
			Fixed      []string
			Suppressed *struct{ Status, Justification, Document string }
		}
		NotAssessed []struct{ Name, Version, Ecosystem, Reason string }
		Policy      struct {
			Failed  bool
			Reasons []string
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != report.SchemaVersion || !strings.HasPrefix(got.Snapshot.ID, "sha256:") {
		t.Errorf("header %+v", got)
	}
	s := got.Summary
	if s.Packages != 5 || s.Assessed != 4 || s.NotAssessed != 1 || s.Findings != 4 || s.Suppressed != 1 || s.BySeverity["critical"] != 0 || s.BySeverity["unknown"] != 1 {
		t.Errorf("summary %+v", s)
	}
	first := got.Findings[1] // unknown severity sorts first (it fails every threshold), then critical
	if first.Vulnerability.ID != "GHSA-crit-0000-0000" || first.Vulnerability.Score != 9.8 || first.Vulnerability.Severity != "critical" ||
		strings.Join(first.Vulnerability.Aliases, ",") != "CVE-2024-0001" || first.Package.PURL != "pkg:npm/a@1.0.0" ||
		strings.Join(first.Fixed, ",") != "2.0.0" || first.Suppressed == nil || first.Suppressed.Status != "not_affected" ||
		first.Suppressed.Document != "https://example.com/vex/1" {
		t.Errorf("first finding %+v (suppressed %+v)", first, first.Suppressed)
	}
	if len(got.NotAssessed) != 1 || got.NotAssessed[0].Reason != "ecosystem Alpine is not in the OSV mirror" {
		t.Errorf("not assessed %+v", got.NotAssessed)
	}
	if !got.Policy.Failed {
		t.Error("policy should fail on the unknown-severity finding and the not-assessed package")
	}
}

// sarifSchema returns the SARIF 2.1.0 JSON schema text from go-sarif's source in the module
// cache (the version this test binary links).
func sarifSchema(t *testing.T) string {
	t.Helper()
	const mod = "github.com/owenrumney/go-sarif/v3"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	version := ""
	for _, d := range bi.Deps {
		if d.Path == mod {
			version = d.Version
		}
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil || version == "" {
		t.Fatalf("locating %s: %v (version %q)", mod, err, version)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), mod+"@"+version, "pkg/report/v210/sarif/schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(src), "`", 3)
	if len(parts) != 3 || !strings.Contains(parts[1], "sarif-schema-2.1.0") {
		t.Fatalf("no SARIF schema in go-sarif's schema.go")
	}
	return parts[1]
}

func TestSARIFValid(t *testing.T) {
	res, doc := result(t)
	r := report.Build(report.Input{Result: res, Document: doc, Product: &vex.Product{Digest: "sha256:abcd"}, VEX: suppressA(t), Now: now})
	var buf bytes.Buffer
	if err := r.WriteSARIF(&buf, "sboms/bom.cdx.json", "test"); err != nil {
		t.Fatal(err)
	}
	// Validate the bytes against the SARIF 2.1.0 schema (the OASIS schema that go-sarif embeds,
	// read from the module cache), then load them with go-sarif's model for the checks below.
	schemaLoader := gojsonschema.NewStringLoader(sarifSchema(t))
	result, err := gojsonschema.Validate(schemaLoader, gojsonschema.NewBytesLoader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !result.Valid() {
		t.Fatalf("SARIF does not validate: %v\n%s", result.Errors(), buf.String())
	}
	// The schema is live: a driver without a name is rejected.
	if bad, _ := gojsonschema.Validate(schemaLoader, gojsonschema.NewStringLoader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`)); bad == nil || bad.Valid() {
		t.Fatal("the schema accepted a driver without a name")
	}
	parsed, err := sarif.FromBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// What GitHub code scanning needs: rules with security-severity, results with locations.
	run := parsed.Runs[0]
	if len(run.Tool.Driver.Rules) != 5 || len(run.Results) != 5 {
		t.Fatalf("%d rules, %d results, want 5 and 5 (4 vulnerabilities + not assessed)", len(run.Tool.Driver.Rules), len(run.Results))
	}
	for _, res := range run.Results {
		if res.RuleID == nil || len(res.Locations) != 1 || *res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "sboms/bom.cdx.json" {
			t.Errorf("result %+v", res)
		}
	}
	if got := run.Tool.Driver.Rules[1].Properties.Properties["security-severity"]; got != "9.8" {
		t.Errorf("security-severity %v", got)
	}
	if len(run.Results[1].Suppressions) != 1 || *run.Results[1].Suppressions[0].Status != "accepted" {
		t.Errorf("the VEX-suppressed finding carries no accepted suppression: %+v", run.Results[1].Suppressions)
	}
}

func TestTable(t *testing.T) {
	res, doc := result(t)
	r := report.Build(report.Input{Result: res, Document: doc, Product: &vex.Product{Digest: "sha256:abcd"}, VEX: suppressA(t),
		Policy: &report.Policy{FailOn: match.LevelHigh}, Now: now})
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"GHSA-crit-0000-0000 (CVE-2024-0001)", "suppressed (VEX not_affected)", "9.8", "2.0.0",
		"NOT ASSESSED", "zlib", "ecosystem Alpine is not in the OSV mirror",
		"4 findings (1 suppressed by VEX), 1 packages not assessed", "Policy FAILED (fail-on high)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
