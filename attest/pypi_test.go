package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/internal/testenv"
)

const (
	pypiSdist  = "pypi_attestations-0.0.19.tar.gz"
	pypiWheel  = "rfc8785-0.1.2-py3-none-any.whl"
	pypiPolicy = `
authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19
require: {signature: true, provenance: true}
tlog: {required: true}
refs: [refs/tags/v*]
`
	pypiAnyPolicy = `
authorities:
  - name: anyone
    keyless:
      issuer: https://github.com/login/oauth
      subjectRegExp: .+
require: {signature: true}
tlog: {required: true}
`
)

func readPyPI(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.SharedTestdata(t, "pypi", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sdistDistribution(t *testing.T) *attest.PyPIDistribution {
	return &attest.PyPIDistribution{
		Project: "pypi-attestations", Version: "0.0.19", Filename: pypiSdist,
		Data:         readPyPI(t, pypiSdist),
		Provenance:   readPyPI(t, pypiSdist+".provenance"),
		Attestations: [][]byte{readPyPI(t, pypiSdist+".slsa.attestation")},
	}
}

func verifyPyPI(t *testing.T, pol string, d *attest.PyPIDistribution, opts ...attest.CallOption) *attest.Result {
	t.Helper()
	res, err := npmVerifier(t, pol).VerifyPyPIDistribution(d, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The public-good sdist verifies offline: the publish attestation from the provenance
// object (its Trusted Publisher matching the certificate) counts as the signature, the SLSA
// provenance as provenance; the project name is compared after PEP 503 normalization.
func TestPyPISdistVerifiesOffline(t *testing.T) {
	for _, project := range []string{"pypi-attestations", "PyPI_Attestations", "pypi.attestations"} {
		t.Run(project, func(t *testing.T) {
			d := sdistDistribution(t)
			d.Project = project
			res := verifyPyPI(t, pypiPolicy, d, attest.ForSourceRepository("https://github.com/trailofbits/pypi-attestations"))
			if !res.Passed {
				t.Fatalf("not passed:\n%s", res.Summary())
			}
			kinds := map[attest.Kind]int{}
			for _, it := range res.Items {
				kinds[it.Kind]++
				if it.SubjectDigest != "sha256:9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3" {
					t.Errorf("item %s bound to %s", it.Candidate, it.SubjectDigest)
				}
			}
			if kinds[attest.KindSignature] != 1 || kinds[attest.KindProvenance] != 1 || len(res.Items) != 2 {
				t.Fatalf("items %+v", res.Items)
			}
			if res.Artifact.Type != attest.ArtifactPyPI || res.Artifact.Locator != pypiSdist || res.Provenance == nil ||
				res.Provenance.SourceRepo != "https://github.com/trailofbits/pypi-attestations" {
				t.Fatalf("artifact %+v provenance %+v", res.Artifact, res.Provenance)
			}
		})
	}
	// The publish attestation alone (single file) satisfies require.signature only.
	d := sdistDistribution(t)
	d.Provenance, d.Attestations = nil, [][]byte{readPyPI(t, pypiSdist+".publish.attestation")}
	res := verifyPyPI(t, pypiPolicy, d)
	if res.Passed || len(res.Failures) != 1 || res.Failures[0].Check != attest.CheckRequireProvenance {
		t.Fatalf("publish attestation only: %s", res.Summary())
	}
}

// The rfc8785 wheel was signed on Sigstore's staging instance: against the public-good root
// it fails, naming the check, even under a policy that would accept its identity.
func TestPyPIStagingWheelFailsPublicGood(t *testing.T) {
	d := &attest.PyPIDistribution{Project: "rfc8785", Version: "0.1.2", Filename: pypiWheel, Data: readPyPI(t, pypiWheel),
		Attestations: [][]byte{readPyPI(t, pypiWheel+".attestation"), readPyPI(t, pypiWheel+".publish.attestation")}}
	res := verifyPyPI(t, pypiAnyPolicy, d)
	if res.Passed || len(res.Rejected) != 2 {
		t.Fatalf("staging wheel: %s", res.Summary())
	}
	for _, rj := range res.Rejected {
		// The staging Rekor log is not in the public-good root: no entry verifies.
		if rj.Check != attest.CheckTlog || !strings.Contains(rj.Reason, "not enough verified log entries") {
			t.Errorf("rejected %s by %s: %s", rj.Candidate, rj.Check, rj.Reason)
		}
	}
	t.Log(res.Summary())
}

func b64json(t *testing.T, s string, edit func(m map[string]any)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

func editJSON(t *testing.T, data []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Tampering with each part refuses the distribution, naming the check.
func TestPyPITamperedRefused(t *testing.T) {
	otherCert := func() string {
		var m map[string]any
		if err := json.Unmarshal(readPyPI(t, pypiWheel+".attestation"), &m); err != nil {
			t.Fatal(err)
		}
		return m["verification_material"].(map[string]any)["certificate"].(string)
	}()
	firstAtt := func(m map[string]any) map[string]any {
		return m["attestation_bundles"].([]any)[0].(map[string]any)["attestations"].([]any)[0].(map[string]any)
	}
	cases := []struct {
		name   string
		edit   func(d *attest.PyPIDistribution)
		policy string
		check  string
	}{
		{"file byte", func(d *attest.PyPIDistribution) { d.Data = append([]byte(nil), d.Data...); d.Data[100] ^= 1 }, "", attest.CheckSubject},
		{"file name", func(d *attest.PyPIDistribution) { d.Filename = "pypi-attestations-0.0.19.tar.gz" }, "", attest.CheckSubject},
		{"claimed version", func(d *attest.PyPIDistribution) { d.Version = "0.0.20" }, "", attest.CheckFilename},
		{"claimed project", func(d *attest.PyPIDistribution) { d.Project = "pypi-attestation" }, "", attest.CheckFilename},
		{"statement digest", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) {
				env := firstAtt(m)["envelope"].(map[string]any)
				env["statement"] = b64json(t, env["statement"].(string), func(st map[string]any) {
					st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("0", 64)}
				})
			})
		}, "", attest.CheckSubject},
		{"statement predicate", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) {
				env := firstAtt(m)["envelope"].(map[string]any)
				env["statement"] = b64json(t, env["statement"].(string), func(st map[string]any) { st["predicate"] = map[string]any{} })
			})
		}, "", attest.CheckTlog},
		{"certificate", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) {
				firstAtt(m)["verification_material"].(map[string]any)["certificate"] = otherCert
			})
		}, "", attest.CheckTlog},
		{"identity", func(*attest.PyPIDistribution) {}, strings.Replace(pypiPolicy, "release.yml@", "publish.yml@", 1), attest.CheckIdentity},
		{"publisher repository", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) {
				m["attestation_bundles"].([]any)[0].(map[string]any)["publisher"].(map[string]any)["repository"] = "evil/pypi-attestations"
			})
		}, "", attest.CheckPublisher},
		{"publisher workflow", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) {
				m["attestation_bundles"].([]any)[0].(map[string]any)["publisher"].(map[string]any)["workflow"] = "other.yml"
			})
		}, "", attest.CheckPublisher},
		{"unknown field", func(d *attest.PyPIDistribution) {
			d.Provenance = editJSON(t, d.Provenance, func(m map[string]any) { m["extra"] = true })
		}, "", attest.CheckBundle},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := sdistDistribution(t)
			c.edit(d)
			pol := pypiPolicy
			if c.policy != "" {
				pol = c.policy
			}
			res := verifyPyPI(t, pol, d)
			if res.Passed {
				t.Fatalf("passed: %s", res.Summary())
			}
			if got := res.FailedChecks(); !contains(got, c.check) {
				t.Fatalf("failed checks %v, want %s:\n%s", got, c.check, res.Summary())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPyPIUsageErrors(t *testing.T) {
	v := npmVerifier(t, pypiPolicy)
	for _, d := range []attest.PyPIDistribution{{Project: "a b", Version: "1"}, {Project: "x", Version: ">=1"}, {Project: "x", Version: ""}} {
		if _, err := v.VerifyPyPIDistribution(&d); !errors.Is(err, attest.ErrPyPISpec) {
			t.Errorf("%+v: %v", d, err)
		}
	}
}

// The server's claimed repository (server.json repository.url) is enforced on the PyPI
// provenance as for OCI and npm: another repository refuses the file, naming the check.
func TestPyPISourceRepositoryEnforced(t *testing.T) {
	res := verifyPyPI(t, pypiPolicy, sdistDistribution(t), attest.ForSourceRepository("https://github.com/evil/pypi-attestations"))
	if res.Passed {
		t.Fatalf("passed with another repository:\n%s", res.Summary())
	}
	found := false
	for _, rj := range res.Rejected {
		found = found || rj.Check == attest.CheckSourceRepository
	}
	for _, f := range res.Failures {
		found = found || f.Check == attest.CheckSourceRepository
	}
	if !found {
		t.Fatalf("no %s refusal:\n%s", attest.CheckSourceRepository, res.Summary())
	}
}
