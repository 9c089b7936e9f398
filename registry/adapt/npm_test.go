package adapt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
)

const gundamPolicy = `authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1
require: {signature: true, provenance: true}
tlog: {required: true}
`

// npmServer serves gundam-visor@1.0.1 (the real fixture) like an npm registry; *served is
// the tarball answered, swappable to simulate a republished version.
func npmServer(t *testing.T) (url string, served *[]byte) {
	t.Helper()
	tgz, err := os.ReadFile(testenv.SharedTestdata(t, "npm", "gundam-visor-cli-v1-tag.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	atts, err := os.ReadFile(testenv.SharedTestdata(t, "npm", "gundam-visor-cli-v1-tag.tgz.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := tgz
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gundam-visor/1.0.1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"name":"gundam-visor","version":"1.0.1","dist":{"integrity":%q,"tarball":"http://%s/t.tgz","attestations":{"url":"http://%s/a"}}}`,
			npm.Integrity(npm.Sum(tgz).SHA512), r.Host, r.Host)
	})
	mux.HandleFunc("GET /t.tgz", func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
	mux.HandleFunc("GET /a", func(w http.ResponseWriter, _ *http.Request) { w.Write(atts) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, &body
}

func TestVerifyNPMPackage(t *testing.T) {
	base, served := npmServer(t)
	pol, err := attest.ParsePolicy([]byte(gundamPolicy))
	if err != nil {
		t.Fatal(err)
	}
	v, err := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "*", Policy: pol, Name: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetNPMRegistries(base + "/"); err != nil {
		t.Fatal(err)
	}
	req := registry.VerifyRequest{ServerName: "io.github.ramonpetgrave64/gundam", Reference: "gundam-visor", Version: "1.0.1",
		RegistryType: "npm", RepositoryURL: "https://github.com/ramonpetgrave64/gundam-visor"}
	vp, err := v.VerifyPackage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !registry.ValidDigest(vp.Digest) || vp.Pinned != "gundam-visor@1.0.1" || vp.NPM == nil || vp.NPM.SHA256 != vp.Digest ||
		!strings.HasPrefix(vp.NPM.Integrity, "sha512-") || vp.NPM.TarballURL != base+"/t.tgz" || len(vp.NPM.Tarball) != 823 || vp.Provenance == nil {
		t.Fatalf("%+v %+v", vp, vp.NPM)
	}
	passed := map[string]bool{}
	for _, c := range vp.Checks {
		passed[c.Name] = c.Outcome == registry.Pass
	}
	roles := map[string]bool{}
	for _, e := range vp.Evidence {
		roles[e.Role] = true
	}
	if !passed[registry.CheckSignature] || !passed[registry.CheckProvenance] || !roles["signed-publish"] || !roles["signed-provenance"] || !roles["verification-result"] {
		t.Fatalf("checks %v evidence %v", vp.Checks, roles)
	}

	failing := []struct {
		name  string
		mod   func(*registry.VerifyRequest)
		check string
		why   string
	}{
		{"registry not allowed", func(r *registry.VerifyRequest) { r.RegistryBaseURL = "https://npm.evil.example" }, registry.CheckPackages, "not an npm registry this registry reads"},
		{"range version", func(r *registry.VerifyRequest) { r.Version = "^1.0.0" }, registry.CheckPackages, "not an exact version"},
		{"no version", func(r *registry.VerifyRequest) { r.Version = "" }, registry.CheckPackages, "exact version"},
		{"unknown version", func(r *registry.VerifyRequest) { r.Version = "1.0.2" }, registry.CheckResolve, "not found"},
		{"nuget", func(r *registry.VerifyRequest) { r.RegistryType = "nuget" }, registry.CheckPackages, "cannot be verified"},
	}
	for _, c := range failing {
		r := req
		c.mod(&r)
		_, err := v.VerifyPackage(context.Background(), r)
		var ce *registry.CheckError
		if !errors.As(err, &ce) || ce.Check != c.check || !strings.Contains(ce.Reason, c.why) {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	// The same version republished with other bytes is refused on re-resolution.
	*served = append(append([]byte{}, *served...), 0)
	_, err = v.VerifyPackage(context.Background(), req)
	var ce *registry.CheckError
	if !errors.As(err, &ce) || ce.Check != attest.CheckIntegrity || !strings.Contains(ce.Reason, "tarball sha512 is") {
		t.Fatalf("republished: %v", err)
	}
}
