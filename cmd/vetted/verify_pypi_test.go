package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
)

const pypiCLIPolicy = `authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19
require: {signature: true, provenance: true}
tlog: {required: true}
`

func TestVerifyPyPICommand(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(pypiCLIPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	sigPol := filepath.Join(dir, "sig.yaml")
	os.WriteFile(sigPol, []byte(strings.Replace(pypiCLIPolicy, "provenance: true", "provenance: false", 1)), 0o600)
	fx := func(name string) string { return testenv.SharedTestdata(t, "pypi", name) }
	sdist := fx("pypi_attestations-0.0.19.tar.gz")
	prov, slsa := fx("pypi_attestations-0.0.19.tar.gz.provenance"), fx("pypi_attestations-0.0.19.tar.gz.slsa.attestation")
	wheel, wheelAtt := fx("rfc8785-0.1.2-py3-none-any.whl"), fx("rfc8785-0.1.2-py3-none-any.whl.attestation")
	tampered := filepath.Join(dir, "pypi_attestations-0.0.19.tar.gz")
	b, _ := os.ReadFile(sdist)
	b[200] ^= 1
	os.WriteFile(tampered, b, 0o600)

	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		combined string
	}{
		{"provenance object passes signature policy", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--attestations", prov, "--policy", sigPol}, 0, "verified signature", ""},
		{"slsa attestation passes", []string{"pypi:PyPI_Attestations@0.0.19", "--artifact", sdist, "--attestations", slsa, "--policy", pol}, 0, "verified provenance", ""},
		{"publish only misses provenance", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--attestations", prov, "--policy", pol}, 1, "FAILED require.provenance", "failed: pypi_attestations-0.0.19.tar.gz: require.provenance"},
		{"tampered file", []string{"pypi:pypi-attestations@0.0.19", "--artifact", tampered, "--attestations", prov, "--policy", sigPol}, 1, "FAILED subject", "subject"},
		{"claimed version differs", []string{"pypi:pypi-attestations@0.0.20", "--artifact", sdist, "--attestations", prov, "--policy", sigPol}, 1, "FAILED filename", "filename"},
		{"staging wheel against public good", []string{"pypi:rfc8785@0.1.2", "--artifact", wheel, "--attestations", wheelAtt, "--policy", sigPol}, 1, "FAILED tlog", "tlog"},
		{"second artifact fails the release", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--attestations", prov, "--artifact", tampered, "--attestations", prov, "--policy", sigPol}, 1, "FAILED subject", "failed: pypi_attestations-0.0.19.tar.gz: subject"},
		{"unpaired attestations", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--artifact", tampered, "--attestations", prov, "--policy", pol}, 2, "", "one attestations document per artifact"},
		{"attestations without artifact", []string{"pypi:pypi-attestations@0.0.19", "--attestations", prov, "--policy", pol}, 2, "", "--attestations go with --artifact"},
		{"supplied provenance as evidence", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--evidence", prov, "--policy", sigPol}, 0, "verified signature", ""},
		{"supplied attestation of another file", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--attestations", prov, "--evidence", wheelAtt, "--policy", sigPol}, 1, "FAILED subject", "release: subject"},
		{"index flag with artifact", []string{"pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--pypi-index", "https://pypi.org", "--policy", pol}, 2, "", "--artifact verifies local files"},
		{"range refused", []string{"pypi:pypi-attestations@>=0.0.19", "--artifact", sdist, "--attestations", prov, "--policy", pol}, 2, "", "not an exact version"},
		{"no version", []string{"pypi:pypi-attestations", "--policy", pol}, 2, "", "want pypi:NAME@VERSION"},
		{"artifact on npm", []string{"npm:x@1.0.0", "--artifact", sdist, "--policy", pol}, 2, "", "--artifact is for pypi"},
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
		code, out, _ := runVerify(t, "pypi:pypi-attestations@0.0.19", "--artifact", sdist, "--attestations", slsa, "--policy", pol, "--json")
		type result struct {
			Passed   bool `json:"passed"`
			Artifact struct {
				Type    string            `json:"type"`
				Locator string            `json:"locator"`
				Digests map[string]string `json:"digests"`
			} `json:"artifact"`
		}
		var res struct {
			Ref     string `json:"ref"`
			Passed  bool   `json:"passed"`
			Release result `json:"release"`
			Files   []struct {
				Filename string `json:"filename"`
				SHA256   string `json:"sha256"`
				Result   result `json:"result"`
			} `json:"files"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Passed || len(res.Files) != 1 || !res.Release.Passed ||
			res.Files[0].Result.Artifact.Type != "pypi" || res.Files[0].Result.Artifact.Locator != "pypi_attestations-0.0.19.tar.gz" ||
			res.Files[0].SHA256 != "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3" ||
			res.Release.Artifact.Digests["sha256"] != "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3" {
			t.Fatalf("exit %d, %v: %s", code, err, out)
		}
	})
}
