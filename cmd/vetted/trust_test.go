package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/trustroot"
	"github.com/vetted-dev/vetted/attest/trustroot/trustroottest"
)

func runTrust(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return out.String(), errb.String(), err
}

// writeTUFRoot writes the mirror's TUF root.json for --tuf-root.
func writeTUFRoot(t *testing.T, m *trustroottest.Mirror) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "root.json")
	if err := os.WriteFile(p, m.Root, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTrustRefresh fetches the trusted root from an in-process TUF mirror on 127.0.0.1
// through the outbound guard and writes it where a policy can point to it.
func TestTrustRefresh(t *testing.T) {
	m := trustroottest.NewMirror(t, trustroot.PublicGoodJSON())
	if !strings.HasPrefix(m.URL, "http://127.0.0.1:") {
		t.Fatalf("mirror is not on loopback: %s", m.URL)
	}
	out := filepath.Join(t.TempDir(), "trusted_root.json")
	stdout, stderr, err := runTrust(t, "trust", "refresh", "-o", out, "--mirror", m.URL, "--tuf-root", writeTUFRoot(t, m), "--json")
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", ExitCode(err), err, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, trustroot.PublicGoodJSON()) {
		t.Error("written file differs from the served target")
	}
	if _, err := trustroot.FromFile(out); err != nil {
		t.Errorf("written file does not parse: %v", err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	var s trustSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	want, _ := trustroot.PublicGood()
	if s.File != out || s.TransparencyLogs != len(want.RekorLogs()) || s.CertificateAuthorities != len(want.FulcioCertificateAuthorities()) ||
		s.CTLogs != len(want.CTLogs()) || s.TimestampAuthorities != len(want.TimestampingAuthorities()) || s.NewestValidityStart == nil {
		t.Errorf("summary %+v does not describe the served root", s)
	}
	// The text summary names the file; show prints the same counts for it.
	stdout, _, err = runTrust(t, "trust", "show", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, out) || !strings.Contains(stdout, "transparency logs") {
		t.Errorf("show output:\n%s", stdout)
	}
	// Nothing but the file is left in its directory (the temp file was renamed).
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(ents))
	}
}

// TestTrustRefreshFailsClosed: a tampered target or an untrusted mirror is exit 1 and leaves
// the existing file untouched; bad usage is exit 2.
func TestTrustRefreshFailsClosed(t *testing.T) {
	good := trustroottest.NewMirror(t, trustroot.PublicGoodJSON())
	tampered := trustroottest.NewMirror(t, trustroot.PublicGoodJSON())
	tampered.ServeTarget(t, bytes.Replace(trustroot.PublicGoodJSON(), []byte("sigstore"), []byte("s1gstore"), 1))
	goodRoot := writeTUFRoot(t, good)
	cases := []struct {
		name string
		args []string
		code int
		why  string
	}{
		{"tampered target", []string{"--mirror", tampered.URL, "--tuf-root", writeTUFRoot(t, tampered)}, 1, "hash verification failed"},
		{"mirror signed by other keys", []string{"--mirror", tampered.URL, "--tuf-root", goodRoot}, 1, "not enough signatures"},
		{"missing -o", []string{"--mirror", good.URL, "--tuf-root", goodRoot}, 2, "-o FILE is required"},
		{"bad mirror URL", []string{"--mirror", "ftp://127.0.0.1/x", "--tuf-root", goodRoot}, 2, "want an http(s) URL"},
		{"unreadable TUF root", []string{"--mirror", good.URL, "--tuf-root", filepath.Join(t.TempDir(), "none.json")}, 2, "--tuf-root"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "trusted_root.json")
			old := []byte(`{"previous":"root"}`)
			if err := os.WriteFile(out, old, 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"trust", "refresh"}, tc.args...)
			if tc.name != "missing -o" {
				args = append(args, "-o", out)
			}
			_, _, err := runTrust(t, args...)
			if got := ExitCode(err); got != tc.code {
				t.Fatalf("exit %d, want %d: %v", got, tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, old) {
				t.Error("the existing file was changed")
			}
			if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
				t.Errorf("directory holds %d entries, want 1 (temp file left behind?)", len(ents))
			}
		})
	}
}

// TestTrustShow summarizes the embedded root and rejects files that are not trusted roots.
func TestTrustShow(t *testing.T) {
	stdout, _, err := runTrust(t, "trust", "show", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s trustSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	want, _ := trustroot.PublicGood()
	if s.Source != "embedded public-good" || s.TransparencyLogs != len(want.RekorLogs()) || s.TransparencyLogs == 0 || s.CertificateAuthorities == 0 {
		t.Errorf("embedded summary %+v", s)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mediaType":"nope"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runTrust(t, "trust", "show", bad); ExitCode(err) != 1 || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("not a trusted root: exit %d, %v", ExitCode(err), err)
	}
	if _, _, err := runTrust(t, "trust", "show", filepath.Join(t.TempDir(), "missing.json")); ExitCode(err) != 2 {
		t.Errorf("missing file: exit %d, %v", ExitCode(err), err)
	}
	if _, _, err := runTrust(t, "trust", "show", "a", "b"); ExitCode(err) != 2 {
		t.Errorf("two files: exit %d, %v", ExitCode(err), err)
	}
}
