package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
)

// benchNPMRegistry serves one real package of ../shared/testdata/npm (sigstore@2.3.1: its
// tarball and the registry's attestations document, npm's publish attestation and the
// keyless SLSA provenance) the way an npm registry does, on loopback.
func benchNPMRegistry(b *testing.B) (url string, tarball []byte) {
	b.Helper()
	const file, name, version = "provenance-npm-test-cli-v1-prega", "sigstore", "2.3.1"
	tgz, err := os.ReadFile(testenv.SharedTestdata(b, "npm", file+".tgz"))
	if err != nil {
		b.Fatal(err)
	}
	atts, err := os.ReadFile(testenv.SharedTestdata(b, "npm", file+".tgz.json"))
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+name+"/"+version, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"name":%q,"version":%q,"dist":{"integrity":%q,"tarball":"http://%s/%s/-/%s-%s.tgz","attestations":{"url":"http://%s/-/npm/v1/attestations/%s@%s"}}}`,
			name, version, npm.Integrity(npm.Sum(tgz).SHA512), r.Host, name, name, version, r.Host, name, version)
	})
	mux.HandleFunc("GET /"+name+"/-/"+name+"-"+version+".tgz", func(w http.ResponseWriter, _ *http.Request) { w.Write(tgz) })
	mux.HandleFunc("GET /-/npm/v1/attestations/"+name+"@"+version, func(w http.ResponseWriter, _ *http.Request) { w.Write(atts) })
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv.URL, tgz
}

// newBenchNPMPublisher is the whole publish path of an npm server: for each publish the
// pipeline resolves sigstore@2.3.1 from the loopback registry (version document, tarball,
// attestations document), checks the integrity, verifies npm's publish attestation and the
// keyless provenance (public-good trusted root, Rekor, Fulcio, identity, source
// repository) and the two supplied bundles (SBOM and tool manifest over the tarball,
// key-signed), scans the SBOM against a warm OSV index, hashes and lints the tool manifest,
// writes the SQLite transaction and signs the VSA, through the HTTP handler. It returns the
// handler and the envelope's evidence member.
func newBenchNPMPublisher(b *testing.B, st benchStore) (http.Handler, string, string) {
	b.Helper()
	regURL, tgz := benchNPMRegistry(b)
	key := sigtest.NewKey(b)
	pol, err := attest.ParsePolicy([]byte(`authorities:
  - name: sigstore-js
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main
  - name: release-key
    key:
      pem: |
        ` + strings.ReplaceAll(strings.TrimSpace(key.PublicPEM(b)), "\n", "\n        ") + `
require: {signature: true, provenance: true, sbom: true, tools: true}
`))
	if err != nil {
		b.Fatal(err)
	}
	v, err := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "*", Policy: pol}})
	if err != nil {
		b.Fatal(err)
	}
	if err := v.SetNPMRegistries(regURL); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "npm"), 0o755)
	for i := 0; i < 500; i++ { // the same warm index as the OCI publish benchmark
		os.WriteFile(filepath.Join(dir, "npm", fmt.Sprintf("B-%d.json", i)), []byte(fmt.Sprintf(`{"schema_version":"1.6.0","id":"B-%d","modified":"2026-01-01T00:00:00Z",
"affected":[{"package":{"ecosystem":"npm","name":"pkg%d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.1"}]}]}],"database_specific":{"severity":"LOW"}}`, i, i)), 0o644)
	}
	idx, err := scan.OpenIndex(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := adapt.NewScanner(func() *match.Index { return idx }, adapt.DefaultScanPolicy, nil)
	k, _ := vsa.LoadOrCreateKey(filepath.Join(b.TempDir(), "k.pem"))
	signer, _ := vsa.NewSigner(k)
	pipe, err := registry.NewPipeline(st, v, sc, adapt.NewToolInspector(),
		registry.WithVSASigner(registry.NewVSAKeySigner(signer, "https://bench", "bench")), registry.WithNPM(registry.NPMOptions{}))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(st, WithPublishing(PublishConfig{Pipeline: pipe, Evidence: st,
		Caller: func(context.Context) (string, registry.Authorizer) {
			return "bench", registry.AuthorizerFunc(func(string) error { return nil })
		}}))
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(tgz)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	evidence := `[` + string(sigtest.Marshal(b, key.DSSEBundle(b, "application/vnd.in-toto+json", sigtest.Statement(digest, attest.PredicateSPDX, benchSPDX())))) +
		`,` + string(sigtest.Marshal(b, key.DSSEBundle(b, "application/vnd.in-toto+json", sigtest.Statement(digest, attest.PredicateToolManifest, benchTools)))) + `]`
	return srv.Handler(), regURL, evidence
}

// BenchmarkPublishNPM: latency of one npm publish (p50/p99 reported) against a loopback npm
// registry serving a real package with its real attestations, on SQLite and PostgreSQL.
func BenchmarkPublishNPM(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) {
			h, regURL, evidence := newBenchNPMPublisher(b, s.open(b))
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := `{"server":{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/sigstore",
"description":"Sigstore tools","version":"1.0.` + fmt.Sprint(i) + `","repository":{"url":"https://github.com/sigstore/sigstore-js","source":"github"},
"packages":[{"registryType":"npm","registryBaseUrl":"` + regURL + `","identifier":"sigstore","version":"2.3.1","transport":{"type":"stdio"}}]},"evidence":` + evidence + `}`
				t0 := time.Now()
				r := httptest.NewRequest(http.MethodPost, "/v0.1/publish", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				ds = append(ds, time.Since(t0))
				if w.Code != 200 || !strings.Contains(w.Body.String(), `"decision":"published"`) {
					b.Fatalf("publish %d: %d %.600s", i, w.Code, w.Body.String())
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(percentile(ds, 0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
		})
	}
}
