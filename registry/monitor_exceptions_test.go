package registry

import (
	"encoding/json"
	"strings"
	"testing"
)

// failingFindings reads what fails a re-scan from its report: findings at or above the
// decision's threshold (not the suppressed or lower ones), packages not assessed when the
// decision counts them; and says it cannot tell when the report has no decision.
func TestFailingFindings(t *testing.T) {
	out := func(outcome Outcome, report string) *ScanOutcome {
		return &ScanOutcome{Report: json.RawMessage(report), Summary: ScanSummary{Outcome: outcome}}
	}
	rep := `{"policy":{"failOn":"high","failed":true,"reasons":[]},"notAssessed":[{"name":"x","version":"1","ecosystem":"Hex","reason":"r"}],"findings":[
		{"package":{"name":"lodash","version":"4.17.15"},"vulnerability":{"id":"GHSA-a","aliases":["CVE-1"],"severity":"high"}},
		{"package":{"name":"lodash","version":"4.17.15"},"vulnerability":{"id":"GHSA-b","aliases":[],"severity":"medium"}},
		{"package":{"name":"qs","version":"1.0.0"},"vulnerability":{"id":"GHSA-c","aliases":[],"severity":"critical"},"suppressed":{"status":"not_affected"}},
		{"package":{"name":"qs","version":"1.0.0"},"vulnerability":{"id":"GHSA-d","aliases":[],"severity":"unknown"}}]}`
	fs, ok := failingFindings([]*ScanOutcome{out(Pass, `{"findings":[]}`), out(Fail, rep)})
	var got []string
	for _, f := range fs {
		got = append(got, f.String()+"|"+strings.Join(f.IDs, ","))
	}
	want := "GHSA-a (high) in lodash 4.17.15|GHSA-a,CVE-1;GHSA-d (unknown) in qs 1.0.0|GHSA-d;1 package(s) not assessed by the OSV mirror|"
	if !ok || strings.Join(got, ";") != want {
		t.Fatalf("failing findings: %v %q, want %q", ok, got, want)
	}
	vuln := Exception{Findings: []ExceptedFinding{{Kind: ExceptVulnerability, Vulnerability: "cve-1"}}}
	all := Exception{Findings: []ExceptedFinding{{Kind: ExceptAll}}}
	if !vuln.CoversVulnerability(fs[0].IDs...) || vuln.CoversVulnerability(fs[2].IDs...) || !all.CoversVulnerability(fs[2].IDs...) {
		t.Fatal("a vulnerability exception must cover its alias only; not-assessed packages only an \"all\" exception")
	}
	allowed := strings.Replace(rep, `"failed":true`, `"failed":true,"allowNotAssessed":true`, 1)
	if fs, ok := failingFindings([]*ScanOutcome{out(Fail, allowed)}); !ok || len(fs) != 2 {
		t.Fatalf("with not-assessed packages allowed: %+v %v, want the two vulnerabilities", fs, ok)
	}
	for _, bad := range []string{`{"findings":[]}`, `{"policy":{"failOn":"severe","failed":true},"findings":[]}`, `not json`} {
		if _, ok := failingFindings([]*ScanOutcome{out(Fail, bad)}); ok {
			t.Errorf("failing report %s: read as saying what fails", bad)
		}
	}
}
