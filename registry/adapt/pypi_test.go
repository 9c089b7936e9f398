package adapt_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
)

const pypiSdist = "pypi_attestations-0.0.19.tar.gz"

// pypiPolicy names the Trusted Publisher of the real sdist fixture.
const pypiPolicy = `authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19
require: {signature: true}
tlog: {required: true}
`

// pypiIndex serves pypi-attestations 0.0.19 (the real sdist and its provenance object)
// like PyPI: the PEP 691 JSON page, the file, the Integrity API. *served is the file
// answered, swappable to simulate a replaced file.
func pypiIndex(t *testing.T) (url string, served *[]byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(testenv.SharedTestdata(t, "pypi", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sdist, prov := read(pypiSdist), read(pypiSdist+".provenance")
	sum := sha256.Sum256(sdist)
	body := sdist
	mux := http.NewServeMux()
	mux.HandleFunc("GET /simple/pypi-attestations/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		fmt.Fprintf(w, `{"meta":{"api-version":"1.1"},"name":"pypi-attestations","files":[{"filename":%q,"url":"/files/%s","hashes":{"sha256":%q},"yanked":false}]}`,
			pypiSdist, pypiSdist, hex.EncodeToString(sum[:]))
	})
	mux.HandleFunc("GET /files/"+pypiSdist, func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
	mux.HandleFunc("GET /integrity/pypi-attestations/0.0.19/"+pypiSdist+"/provenance", func(w http.ResponseWriter, _ *http.Request) { w.Write(prov) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, &body
}

func pypiVerifier(t *testing.T, pol string) *adapt.Verifier {
	t.Helper()
	p, err := attest.ParsePolicy([]byte(pol))
	if err != nil {
		t.Fatal(err)
	}
	v, err := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "*", Policy: p, Name: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyPyPIPackage(t *testing.T) {
	base, served := pypiIndex(t)
	v := pypiVerifier(t, pypiPolicy)
	if err := v.SetPyPIIndexes(base + "/simple/"); err != nil {
		t.Fatal(err)
	}
	req := registry.VerifyRequest{ServerName: "io.github.trailofbits/pypi-attestations", Reference: "PyPI_Attestations", Version: "0.0.19",
		RegistryType: "pypi", RepositoryURL: "https://github.com/trailofbits/pypi-attestations"}
	vp, err := v.VerifyPackage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
	if vp.Digest != digest || vp.Pinned != "PyPI_Attestations==0.0.19" || vp.PyPI == nil || vp.PyPI.IndexURL != base || len(vp.PyPI.Files) != 1 ||
		vp.PyPI.Files[0].SHA256 != digest || vp.PyPI.Files[0].URL != base+"/files/"+pypiSdist || len(vp.PyPI.Files[0].Data) == 0 {
		t.Fatalf("%+v %+v", vp, vp.PyPI)
	}
	passed := map[string]bool{}
	for _, c := range vp.Checks {
		passed[c.Name] = c.Outcome == registry.Pass
	}
	if !passed[registry.CheckSignature] {
		t.Fatalf("checks %+v", vp.Checks)
	}

	failing := []struct {
		name   string
		policy string
		mod    func(*registry.VerifyRequest)
		check  string
		why    string
	}{
		{"index not allowed", pypiPolicy, func(r *registry.VerifyRequest) { r.RegistryBaseURL = "https://pypi.evil.example" }, registry.CheckPackages, "not a PyPI index this registry reads"},
		{"range version", pypiPolicy, func(r *registry.VerifyRequest) { r.Version = ">=0.0.19" }, registry.CheckPackages, "not an exact version"},
		{"no version", pypiPolicy, func(r *registry.VerifyRequest) { r.Version = "" }, registry.CheckPackages, "exact version"},
		{"unknown version", pypiPolicy, func(r *registry.VerifyRequest) { r.Version = "0.0.18" }, registry.CheckResolve, "has no distributions"},
		{"other repository", pypiPolicy, func(r *registry.VerifyRequest) { r.RepositoryURL = "https://github.com/acme/pypi-attestations" }, registry.CheckSignature, "acme/pypi-attestations"},
		{"other identity", strings.Replace(pypiPolicy, "refs/tags/v0.0.19", "refs/tags/v9", 1), func(*registry.VerifyRequest) {}, registry.CheckSignature, "refs/tags/v9"},
	}
	for _, c := range failing {
		vv := v
		if c.policy != pypiPolicy {
			vv = pypiVerifier(t, c.policy)
			if err := vv.SetPyPIIndexes(base); err != nil {
				t.Fatal(err)
			}
		}
		r := req
		c.mod(&r)
		vp, err := vv.VerifyPackage(context.Background(), r)
		var ce *registry.CheckError
		switch {
		case errors.As(err, &ce):
			if ce.Check != c.check || !strings.Contains(ce.Reason, c.why) {
				t.Errorf("%s: %v", c.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		default:
			found := false
			for _, ck := range vp.Checks {
				if ck.Name == c.check && ck.Outcome == registry.Fail {
					found = true
					if !strings.Contains(ck.Reason, c.why) {
						t.Errorf("%s: %s", c.name, ck.Reason)
					}
				}
			}
			if !found {
				t.Errorf("%s: no failed %s check: %+v", c.name, c.check, vp.Checks)
			}
		}
	}

	// The file replaced under the same name: the index's sha256 no longer matches.
	*served = append(append([]byte{}, *served...), 0)
	_, err = v.VerifyPackage(context.Background(), req)
	var ce *registry.CheckError
	if !errors.As(err, &ce) || ce.Check != registry.CheckResolve || !strings.Contains(ce.Reason, pypiSdist+" from ") || !strings.Contains(ce.Reason, "the index lists sha256:") {
		t.Fatalf("replaced file: %v", err)
	}
}
