package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/internal/testenv"
)

const gundamPolicy = `authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1
require: {signature: true, provenance: true}
tlog: {required: true}
`

func TestVerifyNPMCommand(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(gundamPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	fx := func(name string) string { return testenv.SharedTestdata(t, "npm", name) }
	tgz, atts := fx("gundam-visor-cli-v1-tag.tgz"), fx("gundam-visor-cli-v1-tag.tgz.json")
	badAtts := fx("gundam-visor-cli-v1-tag-invalidsigprov.tgz.json")
	keys := filepath.Join(dir, "keys.json")
	os.WriteFile(keys, []byte(`{"keys":[]}`), 0o600)

	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		combined string
	}{
		{"offline passes", []string{"npm:gundam-visor@1.0.1", "--tarball", tgz, "--attestations", atts, "--policy", pol}, 0, "verified publish", ""},
		{"broken provenance", []string{"npm:gundam-visor@1.0.1", "--tarball", tgz, "--attestations", badAtts, "--policy", pol}, 1, "FAILED tlog", "failed: tlog"},
		{"claimed name differs from the subject", []string{"npm:gundam-visor-evil@1.0.1", "--tarball", tgz, "--attestations", atts, "--policy", pol}, 1, "FAILED subject", "subject"},
		{"claimed version differs from the subject", []string{"npm:gundam-visor@1.0.2", "--tarball", tgz, "--attestations", atts, "--policy", pol}, 1, "not pkg:npm/gundam-visor@1.0.2", "subject"},
		{"source repository differs", []string{"npm:gundam-visor@1.0.1", "--tarball", tgz, "--attestations", atts, "--policy", pol, "--source-repository", "https://github.com/evil/x"}, 1, "FAILED source-repository", ""},
		{"npm keys replaced by an empty set", []string{"npm:gundam-visor@1.0.1", "--tarball", tgz, "--attestations", atts, "--policy", pol, "--npm-keys", keys}, 1, "FAILED authority", ""},
		{"dist-tag refused", []string{"npm:gundam-visor@latest", "--tarball", tgz, "--attestations", atts, "--policy", pol}, 2, "", "dist-tags and ranges are refused"},
		{"range refused", []string{"npm:gundam-visor@^1.0.0", "--policy", pol}, 2, "", "not an exact version"},
		{"no version", []string{"npm:gundam-visor", "--policy", pol}, 2, "", "want NAME@VERSION"},
		{"tarball without attestations", []string{"npm:gundam-visor@1.0.1", "--tarball", tgz, "--policy", pol}, 2, "", "go together"},
		{"missing tarball file", []string{"npm:gundam-visor@1.0.1", "--tarball", filepath.Join(dir, "nope.tgz"), "--attestations", atts, "--policy", pol}, 2, "", "no such file"},
		{"npm flags on an image", []string{"example.com/x:1", "--tarball", tgz, "--policy", pol}, 2, "", "are for npm:NAME@VERSION or pypi:NAME@VERSION"},
		{"plain http registry off loopback", []string{"npm:gundam-visor@1.0.1", "--npm-registry", "http://registry.example.com", "--policy", pol}, 2, "", "plain http"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, combined := runVerify(t, c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(combined, c.combined) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out, combined)
			}
		})
	}

	t.Run("json from a registry, then a republished tarball", func(t *testing.T) {
		body, _ := os.ReadFile(tgz)
		doc, _ := os.ReadFile(atts)
		served := body
		mux := http.NewServeMux()
		mux.HandleFunc("GET /gundam-visor/1.0.1", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"name":"gundam-visor","version":"1.0.1","dist":{"integrity":%q,"tarball":"http://%s/t.tgz","attestations":{"url":"http://%s/a"}}}`,
				npm.Integrity(npm.Sum(body).SHA512), r.Host, r.Host)
		})
		mux.HandleFunc("GET /t.tgz", func(w http.ResponseWriter, _ *http.Request) { w.Write(served) })
		mux.HandleFunc("GET /a", func(w http.ResponseWriter, _ *http.Request) { w.Write(doc) })
		srv := httptest.NewServer(mux)
		defer srv.Close()

		code, out, combined := runVerify(t, "npm:gundam-visor@1.0.1", "--npm-registry", srv.URL, "--policy", pol, "--json")
		var res struct {
			Passed   bool   `json:"passed"`
			Digest   string `json:"digest"`
			Artifact struct {
				Type    string            `json:"type"`
				Name    string            `json:"name"`
				Version string            `json:"version"`
				Locator string            `json:"locator"`
				Digests map[string]string `json:"digests"`
			} `json:"artifact"`
			Items []struct {
				Kind          string `json:"kind"`
				SubjectDigest string `json:"subjectDigest"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Passed || res.Artifact.Type != "npm" ||
			res.Artifact.Name != "gundam-visor" || res.Artifact.Version != "1.0.1" || res.Artifact.Locator != srv.URL+"/t.tgz" ||
			res.Digest != "sha512:"+res.Artifact.Digests["sha512"] || len(res.Artifact.Digests["sha256"]) != 64 ||
			len(res.Items) != 2 || res.Items[0].SubjectDigest != res.Digest {
			t.Fatalf("exit %d, %v: %s\n%s", code, err, out, combined)
		}

		served = append(append([]byte{}, body...), 0)
		code, out, combined = runVerify(t, "npm:gundam-visor@1.0.1", "--npm-registry", srv.URL, "--policy", pol)
		if code != 1 || !strings.Contains(out, "FAILED integrity") || !strings.Contains(combined, "failed: integrity") {
			t.Fatalf("exit %d\n%s\n%s", code, out, combined)
		}
	})
}
