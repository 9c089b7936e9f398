package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/internal/testenv"
)

// npmRegistry serves one real fixture package (../shared/testdata/npm) like an npm
// registry: the version document, the tarball and the attestations document. set swaps the
// tarball (and the integrity the registry announces), as a republish under the same version.
type npmRegistry struct {
	url, name, version string
	mu                 sync.Mutex
	tgz, atts          []byte
}

func newNPMRegistry(t *testing.T, file, name, version string) *npmRegistry {
	t.Helper()
	r := &npmRegistry{name: name, version: version}
	var err error
	if r.tgz, err = os.ReadFile(testenv.SharedTestdata(t, "npm", file+".tgz")); err != nil {
		t.Fatal(err)
	}
	if r.atts, err = os.ReadFile(testenv.SharedTestdata(t, "npm", file+".tgz.json")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+name+"/"+version, func(w http.ResponseWriter, q *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		fmt.Fprintf(w, `{"name":%q,"version":%q,"dist":{"integrity":%q,"tarball":"http://%s/%s/-/%s-%s.tgz","attestations":{"url":"http://%s/attestations"}}}`,
			name, version, npm.Integrity(npm.Sum(r.tgz).SHA512), q.Host, name, name, version, q.Host)
	})
	mux.HandleFunc("GET /"+name+"/-/"+name+"-"+version+".tgz", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		w.Write(r.tgz)
	})
	mux.HandleFunc("GET /attestations", func(w http.ResponseWriter, _ *http.Request) { w.Write(r.atts) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *npmRegistry) sha256() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := sha256.Sum256(r.tgz)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sigstore@2.3.1's release workflow, as its provenance names it.
const sigstoreJSAuthority = `  - name: sigstore-js
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main
`

func npmServerJSON(t *testing.T, version, pkgName, pkgVersion, registry string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "server.json")
	os.WriteFile(f, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/sigstore",
"description":"Sigstore tools","version":"`+version+`","repository":{"url":"https://github.com/sigstore/sigstore-js","source":"github"},
"packages":[{"registryType":"npm","registryBaseUrl":"`+registry+`","identifier":"`+pkgName+`","version":"`+pkgVersion+`","transport":{"type":"stdio"}}]}`), 0o644)
	return f
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// A real npm package (sigstore@2.3.1 with its real provenance and npm publish attestation)
// published through vetted serve with publisher-supplied evidence in the publish envelope:
// verified, scanned, pinned and served; every bad bundle rejects naming it; without an SBOM
// attestation the registry builds one with syft and judges the unpinned ranges.
func TestPublishNPMThroughServe(t *testing.T) {
	reg := newNPMRegistry(t, "provenance-npm-test-cli-v1-prega", "sigstore", "2.3.1")
	p := newPublishEnvPolicy(t, "", sigstoreJSAuthority+"require: {signature: true, provenance: true, sbom: true, tools: true}\n",
		"  npm:\n    registries: ["+reg.url+"]")
	tok := map[string]string{"VETTED_TOKEN": p.token}
	digest := reg.sha256()
	att := func(k *sigtest.Key, subject, predicateType, predicate string) string {
		return writeTemp(t, "bundle.json", sigtest.Marshal(t, k.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(subject, predicateType, predicate))))
	}
	tools := att(p.key, digest, attest.PredicateToolManifest, pubTools1)
	sbom := att(p.key, digest, attest.PredicateSPDX, pubSPDX("4.17.21"))

	// Published with the supplied SBOM and tool manifest; the SBOM attestation is what is
	// scanned (it wins over a registry-generated one).
	out, errOut, code := p.cli(t, tok, "publish", npmServerJSON(t, "1.0.0", "sigstore", "2.3.1", reg.url), "--registry", p.url, "--evidence", sbom, "--evidence", tools)
	if code != 0 || !strings.Contains(out, "decision: published") || !strings.Contains(errOut, "evidence[1]: "+tools) {
		t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"pass   provenance", "pass   sbom", "pass   tools.attestation", "pass   npm.publish"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// Served pinned, with the npm entry and the supplied bundles stored as evidence.
	code2, body := httpGet(t, p.url+"/v0.1/servers/io.github.acme%2Fsigstore/versions/1.0.0")
	var served struct {
		Server struct {
			Packages []struct{ Identifier, Version string }
		}
		Meta struct {
			Vetted struct {
				NPM []struct {
					Integrity, SHA256, TarballURL, SBOMSource string
					Unpinned                                  []string
				}
			} `json:"dev.vetted/verification"`
		} `json:"_meta"`
	}
	if code2 != 200 || json.Unmarshal([]byte(body), &served) != nil || len(served.Meta.Vetted.NPM) != 1 {
		t.Fatalf("served: %d %s", code2, body)
	}
	if n := served.Meta.Vetted.NPM[0]; n.SHA256 != digest || !strings.HasPrefix(n.Integrity, "sha512-") || n.SBOMSource != "attestation" ||
		served.Server.Packages[0].Version != "2.3.1" || !strings.HasPrefix(n.TarballURL, reg.url) {
		t.Fatalf("npm meta %+v", served)
	}
	_, ver := httpGet(t, p.url+"/v0.1/x/dev.vetted/servers/io.github.acme%2Fsigstore/versions/1.0.0/verification")
	for _, role := range []string{`"signed-sbom"`, `"signed-tools"`, `"signed-provenance"`, `"signed-publish"`} {
		if !strings.Contains(ver, role) {
			t.Errorf("evidence lacks %s", role)
		}
	}
	// resolve --verify checks the registry's attestation over the tarball digest; fetch
	// writes the tarball only because it matches.
	out, errOut, code = p.cli(t, nil, "resolve", "io.github.acme/sigstore@1.0.0", "--registry", p.url, "--verify")
	if code != 0 || !strings.Contains(out, "npx -y sigstore@2.3.1") || !strings.Contains(out, "integrity sha512-") {
		t.Fatalf("resolve: %d %s %s", code, out, errOut)
	}
	dst := filepath.Join(t.TempDir(), "sigstore.tgz")
	if out, errOut, code = p.cli(t, nil, "fetch", "npm", "io.github.acme/sigstore@1.0.0", "--registry", p.url, "-o", dst); code != 0 {
		t.Fatalf("fetch: %d %s %s", code, out, errOut)
	}
	checkNPMVSASubject(t, p.url, "io.github.acme%2Fsigstore", "1.0.0", "sigstore@2.3.1", digest)

	// Each bad bundle rejects the publish, naming it and its check; exit 1.
	other := sigtest.NewKey(t)
	for _, c := range []struct {
		name     string
		evidence []string
		want     []string
	}{
		{"SBOM signed by another key", []string{att(other, digest, attest.PredicateSPDX, pubSPDX("4.17.21")), tools}, []string{"supplied evidence[0]", "signature"}},
		{"tool manifest over another tarball", []string{sbom, att(p.key, "sha256:"+strings.Repeat("ab", 32), attest.PredicateToolManifest, pubTools1)}, []string{"supplied evidence[1]", "subject"}},
		{"not a bundle", []string{sbom, tools, writeTemp(t, "x.json", []byte(`{"mediaType":"x"}`))}, []string{"supplied evidence[2]", "bundle"}},
		{"vulnerable dependency in the SBOM", []string{att(p.key, digest, attest.PredicateSPDX, pubSPDX("4.17.0")), tools}, []string{"GHSA-test-0003 (critical)"}},
	} {
		out, _, code := p.cli(t, tok, append([]string{"publish", npmServerJSON(t, "1.0.1", "sigstore", "2.3.1", reg.url), "--registry", p.url}, flagEach("--evidence", c.evidence)...)...)
		if code != 1 || !strings.Contains(out, "decision: rejected") {
			t.Fatalf("%s: %d\n%s", c.name, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, out)
			}
		}
	}

	// No SBOM attestation: the registry generates one from the verified tarball with syft;
	// sigstore@2.3.1 ships no lockfile, so its six ranges are unpinned: review by default.
	out, _, code = p.cli(t, tok, "publish", npmServerJSON(t, "1.0.2", "sigstore", "2.3.1", reg.url), "--registry", p.url, "--evidence", tools)
	if code != 0 || !strings.Contains(out, "decision: pending_review") || !strings.Contains(out, "source: registry-generated") ||
		!strings.Contains(out, "review npm.unpinned") || !strings.Contains(out, "6 dependencies are ranges") || !strings.Contains(out, "@sigstore/bundle@^2.3.2") {
		t.Fatalf("registry-generated SBOM: %d\n%s", code, out)
	}
	// The verification _meta labels it and lists the unpinned ranges.
	out, _, _ = p.cli(t, tok, "publish", npmServerJSON(t, "1.0.2", "sigstore", "2.3.1", reg.url), "--registry", p.url, "--evidence", tools, "--json")
	for _, want := range []string{`"sbomSource":"registry-generated"`, `"unpinnedCount":6`, `"unpinned":["@sigstore/bundle@^2.3.2",`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in %s", want, out)
		}
	}

	// The same version republished with other bytes is refused on re-resolution.
	reg.mu.Lock()
	reg.tgz = append(append([]byte{}, reg.tgz...), 0)
	reg.mu.Unlock()
	out, _, code = p.cli(t, tok, "publish", npmServerJSON(t, "1.0.3", "sigstore", "2.3.1", reg.url), "--registry", p.url, "--evidence", sbom, "--evidence", tools)
	if code != 1 || !strings.Contains(out, "decision: rejected") || !strings.Contains(out, "npm attestations") {
		t.Fatalf("republished: %d\n%s", code, out)
	}
}

// publish.npm.unpinned: reject refuses a registry-generated SBOM with unpinned ranges.
func TestPublishNPMUnpinnedReject(t *testing.T) {
	reg := newNPMRegistry(t, "provenance-npm-test-cli-v1-prega", "sigstore", "2.3.1")
	p := newPublishEnvPolicy(t, "", sigstoreJSAuthority+"require: {signature: true, provenance: true, sbom: true, tools: true}\n",
		"  npm:\n    registries: ["+reg.url+"]\n    unpinned: reject")
	tools := writeTemp(t, "tools.json", sigtest.Marshal(t, p.key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(reg.sha256(), attest.PredicateToolManifest, pubTools1))))
	out, _, code := p.cli(t, map[string]string{"VETTED_TOKEN": p.token}, "publish", npmServerJSON(t, "1.0.0", "sigstore", "2.3.1", reg.url), "--registry", p.url, "--evidence", tools, "--json")
	if code != 1 || !strings.Contains(out, `"location":"check.npm.unpinned (packages[0] sigstore)"`) || !strings.Contains(out, "(publish.npm.unpinned: reject)") {
		t.Fatalf("%d\n%s", code, out)
	}
}

// checkNPMVSASubject checks that the registry's signed VSA for a published version (verified
// with the key the registry serves) vouches for the npm tarball: a subject named pinned
// (NAME@VERSION) whose sha256 is the tarball's.
func checkNPMVSASubject(t *testing.T, base, escapedName, version, pinned, tarballSHA256 string) {
	t.Helper()
	code, pemKey := httpGet(t, base+vsaKeyPath)
	key, err := vsa.ParsePublicKeyPEM([]byte(pemKey))
	if code != 200 || err != nil {
		t.Fatalf("VSA key: %d %v", code, err)
	}
	code, env := httpGet(t, base+"/v0.1/x/dev.vetted/servers/"+escapedName+"/versions/"+version+"/attestation")
	st, err := vsa.Verify([]byte(env), key)
	if code != 200 || err != nil {
		t.Fatalf("VSA: %d %v %s", code, err, env)
	}
	for _, s := range st.Subject {
		if s.Name == pinned && "sha256:"+s.Digest["sha256"] == tarballSHA256 {
			return
		}
	}
	t.Fatalf("the VSA's subjects %+v lack %s with the tarball's %s", st.Subject, pinned, tarballSHA256)
}

func flagEach(flag string, vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, flag, v)
	}
	return out
}
