package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

// pubVerifier is a hand-written Verifier: "good" references verify, others fail the
// signature check.
type pubVerifier struct{}

const pubDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func (pubVerifier) VerifyPackage(_ context.Context, r registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	vp := &registry.VerifiedPackage{Digest: pubDigest, Pinned: strings.Split(r.Reference, ":")[0] + ":5000/acme/w@" + pubDigest,
		SBOM: []byte(`{}`), ToolManifest: []byte(`{"tools":[{"name":"forecast"}]}`), Result: json.RawMessage(`{"passed":true}`),
		Signers:    []registry.Signer{{Kind: "key", Identity: "sha256:abcd", For: "signature"}},
		Provenance: &registry.ProvenanceSummary{SourceRepo: "https://github.com/acme/w", Commit: "abc"}}
	if strings.Contains(r.Reference, "unsigned") {
		vp.Checks = []registry.Check{{Name: registry.CheckSignature, Outcome: registry.Fail, Reason: "no verified signature: no candidate found"}}
	} else {
		vp.Checks = []registry.Check{{Name: registry.CheckSignature, Outcome: registry.Pass, Reason: "signed"}}
	}
	if strings.Contains(r.Reference, "v2") {
		vp.ToolManifest = []byte(`{"tools":[{"name":"forecast","description":"changed"}]}`)
	}
	return vp, nil
}

type pubScanner struct{}

func (pubScanner) ScanSBOM(context.Context, []byte, registry.ScanProduct) (*registry.ScanOutcome, error) {
	return &registry.ScanOutcome{SnapshotID: "snap-1", Packages: json.RawMessage(`{"packages":[]}`),
		Report:  json.RawMessage(`{"schemaVersion":"vetted.dev/scan-report/v1","findings":[]}`),
		Summary: registry.ScanSummary{Outcome: registry.Pass, Findings: map[string]int{}}}, nil
}

type pubTools struct{}

func (pubTools) Inspect(_ string, m, prev []byte) (*registry.ToolReport, error) {
	r := &registry.ToolReport{ManifestDigest: registry.Digest(m)}
	if prev != nil && string(prev) != string(m) {
		r.Changed = []string{"forecast"}
	}
	return r, nil
}

type pubVSA struct{}

func (pubVSA) SignVSA(registry.VerificationSummary) ([]byte, error) {
	return []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`), nil
}

func newPublishServer(t testing.TB, extra ...Option) (*Server, *sqlite.Store) {
	t.Helper()
	st := openSQLite(t).(*sqlite.Store)
	p, err := registry.NewPipeline(st, pubVerifier{}, pubScanner{}, pubTools{}, registry.WithVSASigner(pubVSA{}))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, st, append(extra, WithPublishing(PublishConfig{
		Pipeline: p, Evidence: st, Audit: st, VSAPublicKey: []byte("-----BEGIN PUBLIC KEY-----\n"),
		SARIF: func(b []byte) ([]byte, error) { return []byte(`{"version":"2.1.0"}`), nil },
		Caller: func(ctx context.Context) (string, registry.Authorizer) {
			return "test|ci", registry.AuthorizerFunc(func(name string) error {
				if !strings.HasPrefix(name, "io.github.acme/") {
					return fmt.Errorf("may publish io.github.acme/* only, not %s", name)
				}
				return nil
			})
		},
	}))...)
	return srv, st
}

func pubBody(name, version, ident string) string {
	return fmt.Sprintf(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":%q,"description":"Weather","version":%q,"packages":[{"registryType":"oci","identifier":%q,"transport":{"type":"stdio"}}]}`, name, version, ident)
}

func post(t testing.TB, h http.Handler, target, body string) resp {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return resp{code: w.Code, body: w.Body.String(), hdr: w.Header()}
}

func TestPublishAPI(t *testing.T) {
	srv, _ := newPublishServer(t)
	h := srv.Handler()
	body := pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")

	r := post(t, h, "/v0.1/publish", body)
	if r.code != http.StatusOK {
		t.Fatalf("publish: %d %s", r.code, r.body)
	}
	var pr PublishResponse
	if err := json.Unmarshal([]byte(r.body), &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Meta.Publish.Decision != "published" || !pr.Meta.Publish.Created || pr.Meta.Official == nil ||
		!strings.Contains(string(pr.Server), "@"+pubDigest) || len(pr.Meta.Vetted) == 0 {
		t.Fatalf("answer: %s", r.body)
	}
	// Served at once through the read API, pinned, with the verification _meta and links.
	g := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest")
	if g.code != 200 || !strings.Contains(g.body, "@"+pubDigest) || !strings.Contains(g.body, `"dev.vetted/verification"`) ||
		!strings.Contains(g.body, `"toolManifestDigest"`) || !strings.Contains(g.body, `/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.0.0/tools`) {
		t.Fatalf("read: %d %s", g.code, g.body)
	}
	// Idempotent.
	if r := post(t, h, "/v0.1/publish", body); r.code != 200 || !strings.Contains(r.body, `"created":false`) {
		t.Fatalf("replay: %d %s", r.code, r.body)
	}
	// Immutable.
	r = post(t, h, "/v0.1/publish", strings.Replace(body, "Weather", "Weather 2", 1))
	if r.code != http.StatusConflict || !strings.Contains(problemText(t, r.body), "different content") {
		t.Fatalf("conflict: %d %s", r.code, r.body)
	}

	// Extension endpoints.
	base := "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.0.0"
	tools := get(t, h, base+"/tools")
	wantETag := `"` + registry.Digest([]byte(`{"tools":[{"name":"forecast"}]}`)) + `"`
	if tools.code != 200 || tools.body != `{"tools":[{"name":"forecast"}]}` || tools.hdr.Get("ETag") != wantETag {
		t.Fatalf("tools: %d %q %q", tools.code, tools.body, tools.hdr.Get("ETag"))
	}
	if nm := get(t, h, base+"/tools", "If-None-Match", wantETag); nm.code != http.StatusNotModified {
		t.Fatalf("tools If-None-Match: %d", nm.code)
	}
	if l := get(t, h, "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/latest/tools"); l.code != 200 {
		t.Fatalf("latest tools: %d", l.code)
	}
	for _, c := range []struct{ path, want string }{
		{"/provenance", `"sourceRepository":"https://github.com/acme/w"`},
		{"/scan", `"schemaVersion":"vetted.dev/scan-report/v1"`},
		{"/scan?format=sarif", `"version":"2.1.0"`},
		{"/verification", `"decision":"published"`},
		{"/attestation", `"payloadType":"application/vnd.in-toto+json"`},
	} {
		if g := get(t, h, base+c.path); g.code != 200 || !strings.Contains(g.body, c.want) {
			t.Errorf("%s: %d %s", c.path, g.code, g.body)
		}
	}
	if g := get(t, h, base+"/scan?format=xml"); g.code != http.StatusUnprocessableEntity {
		t.Errorf("bad format: %d %s", g.code, g.body)
	}
	if g := get(t, h, "/.well-known/dev.vetted/vsa-public-key.pem"); g.code != 200 || !strings.HasPrefix(g.body, "-----BEGIN PUBLIC KEY") {
		t.Errorf("key: %d %s", g.code, g.body)
	}
	if g := get(t, h, "/metrics"); !strings.Contains(g.body, `vetted_publish_decisions_total{created="true",decision="published"} 1`) {
		t.Errorf("metrics: %s", g.body)
	}
	if g := get(t, h, "/v0.1/x/dev.vetted/audit"); g.code != 200 || !strings.Contains(g.body, `"type":"publish.decision"`) {
		t.Errorf("audit: %d %s", g.code, g.body)
	}

	// A changed tool: pending_review, not served, extension endpoints 404.
	r = post(t, h, "/v0.1/publish", pubBody("io.github.acme/weather", "2.0.0", "ghcr.io/acme/w:v2"))
	if r.code != http.StatusAccepted || !strings.Contains(r.body, `"decision":"pending_review"`) || strings.Contains(r.body, "io.modelcontextprotocol.registry/official") {
		t.Fatalf("pending: %d %s (want 202: held, not published)", r.code, r.body)
	}
	if g := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0"); g.code != 404 {
		t.Fatalf("pending version served: %d", g.code)
	}
	if g := get(t, h, "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/2.0.0/tools"); g.code != 404 {
		t.Fatalf("pending tools served: %d", g.code)
	}
}

func TestPublishAPIRefusals(t *testing.T) {
	srv, st := newPublishServer(t)
	h := srv.Handler()
	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"rejected", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/unsigned:1"), 422, `"decision":"rejected"`},
		{"rejection names the check", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/unsigned:1"), 422, `"location":"check.signature (packages[0] ghcr.io/acme/unsigned:1)"`},
		{"other namespace", pubBody("io.github.other/weather", "1.0.0", "ghcr.io/x:1"), 403, "may publish io.github.acme/* only"},
		{"schema: no description", strings.Replace(pubBody("io.github.acme/w", "1.0.0", "x:1"), `"description":"Weather",`, "", 1), 422, "description"},
		{"schema: bad name", pubBody("acme weather", "1.0.0", "x:1"), 422, "name"},
		{"version range", pubBody("io.github.acme/w", "^1.0.0", "x:1"), 422, "version range"},
		{"duplicate key", strings.Replace(pubBody("io.github.acme/w", "1.0.0", "x:1"), `"version":"1.0.0"`, `"version":"1.0.0","version":"1.0.1"`, 1), 422, "duplicate key"},
		{"not json", `{"name":`, 400, ""},
		{"too large", `{"name":"` + strings.Repeat("a", registry.MaxServerJSON) + `"}`, 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, h, "/v0.1/publish", c.body)
			if r.code != c.code || !strings.Contains(r.body, c.want) {
				t.Fatalf("%d %s; want %d …%s…", r.code, r.body, c.code, c.want)
			}
			if ct := r.hdr.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	if _, err := st.GetVersion(context.Background(), registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); err == nil {
		t.Fatal("a refused publish was stored")
	}
	es, _ := st.AuditEvents(context.Background(), 0, 100)
	if len(es) != 2 { // the two rejections; forbidden and malformed requests write nothing
		t.Fatalf("audit events: %d", len(es))
	}
}

func TestPublishDisabled(t *testing.T) {
	srv := newServer(t, openSQLite(t))
	r := post(t, srv.Handler(), "/v0.1/publish", pubBody("io.github.acme/weather", "1.0.0", "x:1"))
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if g := get(t, srv.Handler(), "/v0.1/x/dev.vetted/servers/a%2Fb/versions/1/tools"); g.code != 404 {
		t.Fatalf("%d", g.code)
	}
}

func TestConcurrentPublishAPI(t *testing.T) {
	srv, st := newPublishServer(t)
	h := srv.Handler()
	body := pubBody("io.github.acme/race", "1.0.0", "ghcr.io/acme/w:1")
	var wg sync.WaitGroup
	codes := make([]int, 12)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = post(t, h, "/v0.1/publish", body).code
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("publisher %d: %d", i, c)
		}
	}
	vs, _ := st.ListServerVersions(context.Background(), "io.github.acme/race")
	es, _ := st.AuditEvents(context.Background(), 0, 100)
	if len(vs) != 1 || len(es) != 1 {
		t.Fatalf("versions %d, audit events %d", len(vs), len(es))
	}
}

// FuzzPublishBody: nothing a client sends to POST /v0.1/publish yields a 5xx.
func FuzzPublishBody(f *testing.F) {
	f.Add(pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1"))
	f.Add(pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/unsigned:1"))
	f.Add(`{"name":"io.github.acme/r","version":"1","description":"d","$schema":"https://x/y","remotes":[{"type":"sse","url":"https://x"}],"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"dev.vetted/tools":7}}}`)
	f.Add(`{"name":"a/b","version":"1","version":"2"}`)
	srv, _ := newPublishServer(f)
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		r := post(t, h, "/v0.1/publish", body)
		if r.code >= 500 {
			t.Fatalf("%d for %q: %s", r.code, body, r.body)
		}
	})
}
