package attest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// npmRegistry serves one package version like an npm registry: its version document, its
// tarball and its attestations document. The tarball served can be swapped afterwards, as a
// registry that republishes a version would.
type npmRegistry struct {
	*httptest.Server
	tarball   atomic.Pointer[[]byte]
	integrity string
	docName   string
}

func newNPMRegistry(t *testing.T, name, version string, tgz, atts []byte) *npmRegistry {
	t.Helper()
	r := &npmRegistry{integrity: npm.Integrity(npm.Sum(tgz).SHA512), docName: name}
	r.tarball.Store(&tgz)
	mux := http.NewServeMux()
	esc := strings.Replace(name, "/", "%2f", 1)
	mux.HandleFunc("GET /"+esc+"/"+version, func(w http.ResponseWriter, req *http.Request) {
		base := "http://" + req.Host
		fmt.Fprintf(w, `{"name":%q,"version":%q,"dist":{"integrity":%q,"shasum":"x","tarball":%q,"attestations":{"url":%q,"provenance":{"predicateType":"https://slsa.dev/provenance/v1"}}}}`,
			r.docName, version, r.integrity, base+"/tarballs/pkg.tgz", base+"/-/npm/v1/attestations/"+esc+"@"+version)
	})
	mux.HandleFunc("GET /tarballs/pkg.tgz", func(w http.ResponseWriter, _ *http.Request) { w.Write(*r.tarball.Load()) })
	mux.HandleFunc("GET /-/npm/v1/attestations/"+esc+"@"+version, func(w http.ResponseWriter, _ *http.Request) { w.Write(atts) })
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

func TestVerifyNPMFromRegistry(t *testing.T) {
	f := npmFixtures[2] // a scoped package
	tgz, atts := readNPM(t, f.file)
	reg := newNPMRegistry(t, f.name, f.version, tgz, atts)
	v := npmVerifier(t, f.policy, attest.WithNPMRegistry(reg.URL))

	res, err := v.VerifyNPM(t.Context(), f.name, f.version, attest.ForSourceRepository(f.repo))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.Artifact.Locator != reg.URL+"/tarballs/pkg.tgz" || res.Repository != reg.URL {
		t.Fatalf("%+v\n%s", res.Artifact, res.Summary())
	}

	t.Run("ranges and dist-tags are refused before any request", func(t *testing.T) {
		for _, ver := range []string{"latest", "^1.0.5", "1.0.x", "v1.0.5", ">=1.0.0", ""} {
			if _, err := v.VerifyNPM(t.Context(), f.name, ver); !errors.Is(err, attest.ErrNPMSpec) {
				t.Fatalf("%q: %v", ver, err)
			}
		}
		if _, err := v.VerifyNPM(t.Context(), "Not_A/Name", "1.0.0"); !errors.Is(err, attest.ErrNPMSpec) {
			t.Fatal(err)
		}
	})
	t.Run("unknown version fails resolve", func(t *testing.T) {
		res, err := v.VerifyNPM(t.Context(), f.name, "9.9.9")
		if err != nil || res.Passed || res.Failures[0].Check != attest.CheckResolve || !strings.Contains(res.Failures[0].Reason, "not found") {
			t.Fatalf("%v %+v", err, res)
		}
	})
	t.Run("registry answering another package fails resolve", func(t *testing.T) {
		other := newNPMRegistry(t, f.name, f.version, tgz, atts)
		other.docName = "@laurentsimon/other"
		res, err := npmVerifier(t, f.policy).VerifyNPM(t.Context(), f.name, f.version, attest.FromNPMRegistry(other.URL))
		if err != nil || res.Passed || res.Failures[0].Check != attest.CheckResolve || !strings.Contains(res.Failures[0].Reason, "answered @laurentsimon/other@1.0.5") {
			t.Fatalf("%v %+v", err, res)
		}
	})
	t.Run("tarball larger than the cap fails resolve", func(t *testing.T) {
		small := npmVerifier(t, f.policy, attest.WithNPMRegistry(reg.URL), attest.WithNPMLimits(npm.Limits{MaxTarballBytes: 1024}))
		res, err := small.VerifyNPM(t.Context(), f.name, f.version)
		if err != nil || res.Passed || res.Failures[0].Check != attest.CheckResolve || !strings.Contains(res.Failures[0].Reason, "more than 1024 bytes") {
			t.Fatalf("%v %+v", err, res)
		}
	})
	t.Run("republished tarball under the same version fails integrity", func(t *testing.T) {
		swapped := append([]byte{}, tgz...)
		swapped[100] ^= 0xff
		reg.tarball.Store(&swapped)
		defer reg.tarball.Store(&tgz)
		res, err := v.VerifyNPM(t.Context(), f.name, f.version)
		if err != nil || res.Passed || len(res.Failures) != 1 || res.Failures[0].Check != attest.CheckIntegrity || len(res.Items) != 0 {
			t.Fatalf("%v\n%s", err, res.Summary())
		}
	})
}

// TestNPMSuppliedEvidence: publisher-supplied bundles over the tarball (an SBOM attestation,
// a tool-manifest attestation, a plain signature) verify with the policy's key and count;
// a bundle signed by a key the policy does not name, or bound to another tarball, refuses
// the package, naming the bundle.
func TestNPMSuppliedEvidence(t *testing.T) {
	f := npmFixtures[0]
	tgz, atts := readNPM(t, f.file)
	key, other := sigtest.NewKey(t), sigtest.NewKey(t)
	pol := f.policy + "  - name: publisher\n    key:\n      pem: |\n" + indent(key.PublicPEM(t), "        ")
	pol = strings.Replace(pol, "require: {signature: true, provenance: true}", "require: {signature: true, provenance: true, sbom: true, tools: true}", 1)
	// cosign attest-blob --tlog-upload=false: no log entries, so the policy cannot require them.
	pol = strings.Replace(pol, "tlog: {required: true}\n", "", 1)
	// Move the publisher authority under authorities: (the fixture policy lists its keys first).
	pol = reorderAuthorities(pol)
	sum := sha256.Sum256(tgz)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	sbom := sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(digest, attest.PredicateSPDX, spdxDoc)))
	tools := sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(digest, attest.PredicateToolManifest, toolsDoc)))
	sig := sigtest.Marshal(t, key.MessageBundle(t, tgz))
	pkg := &attest.NPMPackage{Name: f.name, Version: f.version, Tarball: tgz, Attestations: atts}
	v := npmVerifier(t, pol)

	res, err := v.VerifyNPMPackage(pkg, attest.ForSourceRepository(f.repo), attest.WithEvidence(
		attest.SuppliedEvidence{Name: "sbom.bundle", Bundle: sbom}, attest.SuppliedEvidence{Name: "tools.bundle", Bundle: tools},
		attest.SuppliedEvidence{Name: "sig.bundle", Bundle: sig}))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.SBOM == nil || res.ToolManifest == nil || len(res.Items) != 5 {
		t.Fatalf("%s", res.Summary())
	}

	foreign := sigtest.Marshal(t, other.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(digest, attest.PredicateSPDX, spdxDoc)))
	elsewhere := sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement("sha256:"+strings.Repeat("ab", 32), attest.PredicateSPDX, spdxDoc)))
	for _, c := range []struct {
		name, check, reason string
		bundle              []byte
	}{
		{"foreign.bundle", attest.CheckSignature, "supplied foreign.bundle: authority publisher", foreign},
		{"elsewhere.bundle", attest.CheckSubject, "supplied elsewhere.bundle: statement subjects", elsewhere},
		{"garbage.bundle", attest.CheckBundle, "supplied garbage.bundle", []byte(`{"mediaType":"x"}`)},
	} {
		res, err := v.VerifyNPMPackage(pkg, attest.ForSourceRepository(f.repo), attest.WithEvidence(
			attest.SuppliedEvidence{Name: "sbom.bundle", Bundle: sbom}, attest.SuppliedEvidence{Name: "tools.bundle", Bundle: tools},
			attest.SuppliedEvidence{Name: c.name, Bundle: c.bundle}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Passed || res.Failures[0].Check != c.check || !strings.Contains(res.Failures[0].Reason, c.reason) {
			t.Fatalf("%s:\n%s", c.name, res.Summary())
		}
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return pre + strings.Join(lines, "\n"+pre) + "\n"
}

// reorderAuthorities moves authorities appended after the policy's other sections back
// under "authorities:".
func reorderAuthorities(pol string) string {
	i := strings.Index(pol, "  - name: publisher")
	extra := pol[i:]
	pol = pol[:i]
	j := strings.Index(pol, "require:")
	return pol[:j] + extra + pol[j:]
}
