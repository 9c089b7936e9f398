package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/sigtest"
)

func runVerify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"verify"}, args...), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return ExitCode(err), out.String(), errb.String() + errString(err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestVerifyCommand(t *testing.T) {
	reg := sigtest.NewRegistry(t, false, nil)
	k := sigtest.NewKey(t)
	d := reg.PushImage(t, "acme/weather", "v1")
	payload := sigtest.SimpleSigning(reg.Ref("acme/weather", "v1"), d)
	reg.AttachSig(t, "acme/weather", d, sigtest.SigLayer(payload, k.Sign(t, payload), nil))
	reg.PushImage(t, "acme/weather", "unsigned")

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("cosign.pub", k.PublicPEM(t))
	pol := write("policy.yaml", "authorities:\n  - name: release-key\n    key: {path: cosign.pub}\nrequire: {signature: true}\n")
	write("other.pub", sigtest.NewKey(t).PublicPEM(t))
	wrongKey := write("wrong.yaml", "authorities:\n  - name: release-key\n    key: {path: other.pub}\nrequire: {signature: true}\n")
	bad := write("bad.yaml", "authorities:\n  - name: k\n    kee: {path: cosign.pub}\n")
	noKey := write("nokey.yaml", "authorities:\n  - name: k\n    key: {path: missing.pub}\n")
	notAKey := write("notakey.yaml", "authorities:\n  - name: k\n    key: {pem: not a key}\n")

	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		combined string
	}{
		{"passes", []string{reg.Ref("acme/weather", "v1"), "--policy", pol}, 0, "PASS", ""},
		{"unsigned", []string{reg.Ref("acme/weather", "unsigned"), "--policy", pol}, 1, "FAILED require.signature", "require.signature"},
		{"wrong key", []string{reg.Ref("acme/weather", "v1"), "--policy", wrongKey}, 1, "rejected", "require.signature"},
		{"no policy", []string{reg.Ref("acme/weather", "v1")}, 2, "", "--policy is required"},
		{"bad policy", []string{reg.Ref("acme/weather", "v1"), "--policy", bad}, 2, "", "authorities[0].kee: unknown field"},
		{"missing policy file", []string{reg.Ref("acme/weather", "v1"), "--policy", filepath.Join(dir, "nope.yaml")}, 2, "", "no such file"},
		{"policy key file missing", []string{reg.Ref("acme/weather", "v1"), "--policy", noKey}, 2, "", "missing.pub"},
		{"policy key not PEM", []string{reg.Ref("acme/weather", "v1"), "--policy", notAKey}, 2, "", "authorities[0] (k): key"},
		{"bad reference", []string{"UPPER/Case::x", "--policy", pol}, 2, "", "bad image reference"},
		{"no image", []string{"--policy", pol}, 2, "", "accepts 1 arg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, combined := runVerify(t, c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(combined, c.combined) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out, combined)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		code, out, _ := runVerify(t, reg.Ref("acme/weather", "v1"), "--policy", pol, "--json")
		var res struct {
			Passed bool   `json:"passed"`
			Digest string `json:"digest"`
			Items  []struct {
				Kind      string `json:"kind"`
				Authority string `json:"authority"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Passed || res.Digest != d ||
			len(res.Items) != 1 || res.Items[0].Kind != "signature" || res.Items[0].Authority != "release-key" {
			t.Fatalf("exit %d, %v: %s", code, err, out)
		}
	})
}
