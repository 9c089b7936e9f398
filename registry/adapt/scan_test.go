package adapt

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/vex"
)

// osvRecord is our own fixture: lodash before 4.17.21 has a high-severity advisory.
const osvRecord = `{"schema_version":"1.6.0","id":"GHSA-test-0001","modified":"2026-01-01T00:00:00Z","published":"2026-01-01T00:00:00Z",
 "aliases":["CVE-2026-0001"],"summary":"Prototype pollution in lodash (test fixture)",
 "affected":[{"package":{"ecosystem":"npm","name":"lodash","purl":"pkg:npm/lodash"},
   "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
 "database_specific":{"severity":"%s"}}`

func cyclonedx(pkgs ...string) []byte {
	var comps []string
	for i, p := range pkgs {
		name, ver, _ := strings.Cut(p, "@")
		purl := "pkg:npm/" + name + "@" + ver
		if strings.HasPrefix(name, "apk:") {
			name = strings.TrimPrefix(name, "apk:")
			purl = "pkg:apk/alpine/" + name + "@" + ver
		}
		comps = append(comps, `{"type":"library","bom-ref":"c`+string(rune('0'+i))+`","name":"`+name+`","version":"`+ver+`","purl":"`+purl+`"}`)
	}
	return []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[` + strings.Join(comps, ",") + `]}`)
}

func mirror(t *testing.T, severity string) *match.Index {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "npm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "npm", "GHSA-test-0001.json"), []byte(strings.Replace(osvRecord, "%s", severity, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := scan.OpenIndex(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestScannerOutcomes(t *testing.T) {
	prod := registry.ScanProduct{ServerName: "io.github.acme/weather", Version: "1.0.0", Digest: "sha256:" + strings.Repeat("a", 64)}
	for _, tc := range []struct {
		name     string
		severity string
		sbom     []byte
		outcome  registry.Outcome
		reason   string
	}{
		{"clean", "HIGH", cyclonedx("lodash@4.17.21"), registry.Pass, "1 package(s) scanned, 0 finding(s)"},
		{"high fails", "HIGH", cyclonedx("lodash@4.17.0"), registry.Fail, "GHSA-test-0001"},
		{"critical fails", "CRITICAL", cyclonedx("lodash@4.17.0"), registry.Fail, "at or above high"},
		{"moderate needs review", "MODERATE", cyclonedx("lodash@4.17.0"), registry.Review, "GHSA-test-0001"},
		{"low passes", "LOW", cyclonedx("lodash@4.17.0"), registry.Pass, "1 finding(s), none at or above medium"},
		{"not assessed needs exception", "HIGH", cyclonedx("lodash@4.17.21", "apk:musl@1.2.4"), registry.Review, "not assessed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := mirror(t, tc.severity)
			s, err := NewScanner(func() *match.Index { return idx }, DefaultScanPolicy, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.ScanSBOM(context.Background(), tc.sbom, prod)
			if err != nil {
				t.Fatal(err)
			}
			if out.Summary.Outcome != tc.outcome || !strings.Contains(out.Summary.Reason, tc.reason) {
				t.Fatalf("outcome %s %q, want %s …%s…", out.Summary.Outcome, out.Summary.Reason, tc.outcome, tc.reason)
			}
			if out.SnapshotID == "" || out.SnapshotID != idx.SnapshotID() || !json.Valid(out.Report) || !json.Valid(out.Packages) {
				t.Fatalf("snapshot %q report %s", out.SnapshotID, out.Report)
			}
			// Re-scanning the stored package list gives the same verdict without the SBOM.
			again, err := s.Rescan(context.Background(), out.Packages, prod)
			if err != nil || again.Summary.Outcome != tc.outcome {
				t.Fatalf("rescan: %+v %v", again, err)
			}
			sarif, err := SARIF("test")(out.Report)
			if err != nil || !strings.Contains(string(sarif), `"version":"2.1.0"`) && !strings.Contains(string(sarif), `"version": "2.1.0"`) {
				t.Fatalf("sarif: %v %.200s", err, sarif)
			}
		})
	}
}

func TestScannerRejectsNonSBOM(t *testing.T) {
	idx := mirror(t, "HIGH")
	s, _ := NewScanner(func() *match.Index { return idx }, DefaultScanPolicy, nil)
	_, err := s.ScanSBOM(context.Background(), []byte(`{"hello":"world"}`), registry.ScanProduct{})
	if err == nil || !strings.Contains(err.Error(), "cannot be scanned") {
		t.Fatalf("got %v", err)
	}
	if _, err := NewScanner(func() *match.Index { return idx }, ScanPolicy{FailOn: "severe"}, nil); err == nil {
		t.Fatal("unknown level accepted")
	}
}

func TestScannerAppliesVEX(t *testing.T) {
	idx := mirror(t, "HIGH")
	prod := registry.ScanProduct{ServerName: "io.github.acme/weather", Version: "1.0.0", Digest: "sha256:" + strings.Repeat("a", 64)}
	set := vex.NewSet(vex.Statement{Vulnerability: "GHSA-test-0001", Products: []string{"io.github.acme/weather"},
		Status: vex.StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path"})
	s, _ := NewScanner(func() *match.Index { return idx }, DefaultScanPolicy, func(context.Context) (*vex.Set, error) { return set, nil })
	out, err := s.ScanSBOM(context.Background(), cyclonedx("lodash@4.17.0"), prod)
	if err != nil {
		t.Fatal(err)
	}
	if out.Summary.Outcome != registry.Pass || out.Summary.Suppressed != 1 || !strings.Contains(string(out.Report), `"suppressed"`) {
		t.Fatalf("VEX not applied: %+v", out.Summary)
	}
	// Another server is not covered by the statement.
	out, _ = s.ScanSBOM(context.Background(), cyclonedx("lodash@4.17.0"), registry.ScanProduct{ServerName: "io.github.acme/other", Version: "1"})
	if out.Summary.Outcome != registry.Fail {
		t.Fatalf("statement applied outside its product: %+v", out.Summary)
	}
}

// A version with several packages stores an array of reports; its SARIF has one run per
// package (issue 17 item 9: it answered 500, rendering through a one-report path).
func TestSARIFOfSeveralPackages(t *testing.T) {
	idx := mirror(t, "HIGH")
	s, err := NewScanner(func() *match.Index { return idx }, DefaultScanPolicy, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod := registry.ScanProduct{ServerName: "io.github.acme/weather", Version: "1.0.0", Digest: "sha256:" + strings.Repeat("a", 64)}
	var reports []json.RawMessage
	for _, sbom := range [][]byte{cyclonedx("lodash@4.17.0"), cyclonedx("lodash@4.17.21")} {
		out, err := s.ScanSBOM(context.Background(), sbom, prod)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, out.Report)
	}
	stored, err := json.Marshal(reports) // what the pipeline stores for two packages
	if err != nil {
		t.Fatal(err)
	}
	sarif, err := SARIF("test")(stored)
	if err != nil {
		t.Fatalf("sarif of two packages: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 2 {
		t.Fatalf("want SARIF 2.1.0 with 2 runs, got %q with %d: %.300s", log.Version, len(log.Runs), sarif)
	}
	if len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "GHSA-test-0001" || len(log.Runs[1].Results) != 0 {
		t.Fatalf("runs do not carry each package's findings: %+v", log.Runs)
	}
	// One stored report still renders, and garbage is an error, not a panic.
	if _, err := SARIF("test")(reports[0]); err != nil {
		t.Fatalf("one report: %v", err)
	}
	if _, err := SARIF("test")([]byte(`[{"findings": 7}]`)); err == nil {
		t.Fatal("a malformed stored report rendered")
	}
}
