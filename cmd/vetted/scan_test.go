package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
)

// scanFixtureRecords are our own records (facts from the shared README: minimist 0.0.8 and
// ws 6.2.1 are affected), not copies of the shared files.
var scanFixtureRecords = map[string]string{
	"GHSA-xvch-5gv4-984h": `{"id":"GHSA-xvch-5gv4-984h","modified":"2023-02-27T14:47:14Z","aliases":["CVE-2021-44906"],"summary":"minimist prototype pollution",
	  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
	  "affected":[{"package":{"ecosystem":"npm","name":"minimist"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0.2.4"}]}]}]}`,
	"GHSA-6fc8-4gx4-v693": `{"id":"GHSA-6fc8-4gx4-v693","modified":"2021-06-01T00:00:00Z","aliases":["CVE-2021-32640"],"summary":"ws ReDoS",
	  "database_specific":{"severity":"MODERATE"},
	  "affected":[{"package":{"ecosystem":"npm","name":"ws"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"6.0.0"},{"fixed":"6.2.2"}]}]}]}`,
}

func fixtureZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for id, data := range scanFixtureRecords {
		w, _ := zw.Create(id + ".json")
		w.Write([]byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fixtureMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "npm"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "npm", "all.zip"), fixtureZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runScanCLI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }})
	if err != nil && !isSilent(err) {
		errb.WriteString(err.Error())
	}
	return ExitCode(err), out.String(), errb.String()
}

func TestScanCommand(t *testing.T) {
	db := fixtureMirror(t)
	cern := testenv.SharedTestdata(t, "sbom", "cern-lhc-vdm-editor-e564943.cdx.json")
	mixed := testenv.SharedTestdata(t, "sbom", "derived-mixed-apk-npm.cdx.json")
	tmp := t.TempDir()
	vexDoc := filepath.Join(tmp, "vex.json")
	os.WriteFile(vexDoc, []byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec","timestamp":"2024-01-01T00:00:00Z","version":1,
	  "statements":[{"vulnerability":{"name":"CVE-2021-44906"},"products":[{"@id":"sha256:1111"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`), 0o644)
	notSBOM := filepath.Join(tmp, "x.json")
	os.WriteFile(notSBOM, []byte(`{"hello":"world"}`), 0o644)
	truncated := filepath.Join(tmp, "t.json")
	data, _ := os.ReadFile(cern)
	os.WriteFile(truncated, data[:len(data)/2], 0o644)

	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"table, fail-on high trips", nil, []string{"scan", cern, "--osv-db", db, "--fail-on", "high"}, 1,
			[]string{"GHSA-xvch-5gv4-984h (CVE-2021-44906)", "critical", "ws", "6.2.2", "Policy FAILED"}, "1 finding of severity critical"},
		{"table, fail-on critical with the critical one suppressed by VEX", nil, []string{"scan", cern, "--osv-db", db, "--fail-on", "critical", "--vex", vexDoc, "--product-digest", "sha256:1111"}, 0,
			[]string{"suppressed (VEX not_affected)", "Policy passed"}, ""},
		{"VEX for another product does not apply", nil, []string{"scan", cern, "--osv-db", db, "--fail-on", "critical", "--vex", vexDoc, "--product-digest", "sha256:2222"}, 1,
			nil, "1 finding of severity critical"},
		{"mirror from the environment, json", map[string]string{"VETTED_OSV_DB": db}, []string{"scan", cern, "--format", "json"}, 0,
			[]string{`"schemaVersion": "vetted.dev/scan-report/v1"`, `"findings": 2`}, ""},
		{"not assessed fails the policy", nil, []string{"scan", mixed, "--osv-db", db, "--fail-on", "critical", "--vex", vexDoc, "--product-digest", "sha256:1111"}, 1,
			[]string{"NOT ASSESSED", "Alpine:v3.22"}, "1 package not assessed"},
		{"not assessed allowed explicitly", nil, []string{"scan", mixed, "--osv-db", db, "--fail-on", "critical", "--vex", vexDoc, "--product-digest", "sha256:1111", "--allow-not-assessed-unsafe"}, 0,
			nil, ""},
		{"sarif", nil, []string{"scan", cern, "--osv-db", db, "--format", "sarif"}, 0, []string{`"version": "2.1.0"`, `"ruleId": "GHSA-xvch-5gv4-984h"`}, ""},
		{"no mirror flag", nil, []string{"scan", cern}, 2, nil, "--osv-db is required"},
		{"bad format", nil, []string{"scan", cern, "--osv-db", db, "--format", "xml"}, 2, nil, "--format must be"},
		{"bad fail-on", nil, []string{"scan", cern, "--osv-db", db, "--fail-on", "severe"}, 2, nil, "--fail-on must be"},
		{"not an SBOM", nil, []string{"scan", notSBOM, "--osv-db", db}, 2, nil, "not an SPDX or CycloneDX"},
		{"truncated SBOM", nil, []string{"scan", truncated, "--osv-db", db}, 2, nil, "invalid JSON"},
		{"missing SBOM", nil, []string{"scan", filepath.Join(tmp, "nope.json"), "--osv-db", db}, 2, nil, "no such file"},
		{"empty mirror", nil, []string{"scan", cern, "--osv-db", tmp + "/empty"}, 2, nil, "no OSV mirror"},
		{"VEX without product", nil, []string{"scan", cern, "--osv-db", db, "--vex", vexDoc}, 2, nil, "--vex needs the product"},
		{"invalid VEX", nil, []string{"scan", cern, "--osv-db", db, "--vex", notSBOM, "--product-digest", "sha256:1"}, 2, nil, "is not OpenVEX"},
		{"no SBOM argument", nil, []string{"scan", "--osv-db", db}, 2, nil, "accepts 1 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runScanCLI(t, tc.env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
		})
	}
}

func TestOSVSyncCommand(t *testing.T) {
	zipData := fixtureZip(t)
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case fail:
			http.Error(w, "down", http.StatusBadGateway)
		case r.URL.Path == "/npm/all.zip":
			w.Write(zipData)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	db := t.TempDir()

	code, stdout, stderr := runScanCLI(t, nil, "osv", "sync", "--db", db, "--from", srv.URL, "--ecosystem", "npm", "--json")
	if code != 0 {
		t.Fatalf("sync exit %d: %s %s", code, stdout, stderr)
	}
	var m struct {
		ID         string
		Ecosystems []struct {
			Name    string
			Records int
			Fetch   string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || !strings.HasPrefix(m.ID, "sha256:") || len(m.Ecosystems) != 1 || m.Ecosystems[0].Records != 2 || m.Ecosystems[0].Fetch != "full" {
		t.Fatalf("manifest %s (%v)", stdout, err)
	}
	// The synced mirror scans.
	cern := testenv.SharedTestdata(t, "sbom", "cern-lhc-vdm-editor-e564943.cdx.json")
	if code, stdout, _ := runScanCLI(t, nil, "scan", cern, "--osv-db", db); code != 0 || !strings.Contains(stdout, m.ID) || !strings.Contains(stdout, "GHSA-xvch-5gv4-984h") {
		t.Fatalf("scan of the synced mirror: exit %d\n%s", code, stdout)
	}
	// A failing upstream: exit 1, current snapshot kept.
	fail = true
	code, _, stderr = runScanCLI(t, nil, "osv", "sync", "--db", db, "--from", srv.URL, "--ecosystem", "npm")
	if code != 1 || !strings.Contains(stderr, "502") || !strings.Contains(stderr, "current snapshot is unchanged") {
		t.Fatalf("failed sync: exit %d, stderr %s", code, stderr)
	}
	if code, stdout, _ := runScanCLI(t, nil, "osv", "show", "--db", db); code != 0 || !strings.Contains(stdout, m.ID) || !strings.Contains(stdout, "npm") {
		t.Fatalf("show after failed sync: exit %d\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"osv", "sync"}, "--db is required"},
		{[]string{"osv", "sync", "--db", db, "--from", "ftp://x"}, "want http(s)://"},
		{[]string{"osv", "sync", "--db", db, "--ecosystem", "../x"}, "invalid ecosystem name"},
		{[]string{"osv", "show", "--db", t.TempDir()}, "no OSV mirror"},
	} {
		if code, _, stderr := runScanCLI(t, nil, tc.args...); code != 2 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q, want 2 with %q", tc.args, code, stderr, tc.msg)
		}
	}
}

// osv import sorts a flat folder of records (which covers no ecosystem as it is) into the
// mirror by ecosystem, as a new snapshot; osv show lists the ecosystems with their counts.
func TestOSVImportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "osv")
	flat := t.TempDir()
	os.WriteFile(filepath.Join(flat, "GHSA-test-0003.json"), []byte(pubOSV), 0o644)
	os.WriteFile(filepath.Join(flat, "PYSEC-1.json"), []byte(`{"id":"PYSEC-1","modified":"2025-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"jinja2"}}]}`), 0o644)

	// As it is, the flat folder covers no ecosystem, and show says so.
	code, stdout, _ := runScanCLI(t, nil, "osv", "show", "--db", flat)
	if code != 0 || !strings.Contains(stdout, "2 record(s) sit in no ecosystem folder and cover nothing") || !strings.Contains(stdout, "vetted osv import") {
		t.Fatalf("show of a flat folder: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr := runScanCLI(t, nil, "osv", "import", "--db", db, flat, "--json")
	if code != 0 {
		t.Fatalf("import: exit %d %s %s", code, stdout, stderr)
	}
	var res struct {
		Snapshot string
		Changed  bool
		Records  map[string]int
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !res.Changed || res.Records["npm"] != 1 || res.Records["PyPI"] != 1 {
		t.Fatalf("import result %s (%v)", stdout, err)
	}
	code, stdout, _ = runScanCLI(t, nil, "osv", "show", "--db", db)
	if code != 0 || !strings.Contains(stdout, res.Snapshot) {
		t.Fatalf("show: exit %d\n%s", code, stdout)
	}
	for _, row := range []string{`(?m)^PyPI +1 +import `, `(?m)^npm +1 +import `} {
		if !regexp.MustCompile(row).MatchString(stdout) {
			t.Errorf("show lacks a row %s:\n%s", row, stdout)
		}
	}
	// An invalid record: exit 2, named, mirror unchanged.
	os.WriteFile(filepath.Join(flat, "BAD.json"), []byte(`{"id":"BAD"}`), 0o644)
	code, _, stderr = runScanCLI(t, nil, "osv", "import", "--db", db, flat)
	if code != 2 || !strings.Contains(stderr, "BAD.json") || !strings.Contains(stderr, "the mirror is unchanged") {
		t.Fatalf("invalid record: exit %d, %s", code, stderr)
	}
	if _, stdout, _ := runScanCLI(t, nil, "osv", "show", "--db", db); !strings.Contains(stdout, res.Snapshot) {
		t.Fatalf("snapshot changed after a failed import:\n%s", stdout)
	}
	if code, _, stderr := runScanCLI(t, nil, "osv", "import", flat); code != 2 || !strings.Contains(stderr, "--db is required") {
		t.Fatalf("no --db: exit %d %s", code, stderr)
	}
}
