package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/internal/testenv"
)

const (
	pubOSV = `{"schema_version":"1.6.0","id":"GHSA-test-0003","modified":"2026-01-01T00:00:00Z","summary":"test fixture",
"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
"database_specific":{"severity":"CRITICAL"}}`
	pubTools1 = `{"tools":[{"name":"forecast","description":"Get the forecast","inputSchema":{"type":"object"}}]}`
	pubTools2 = `{"tools":[{"name":"forecast","description":"Get the forecast for a city","inputSchema":{"type":"object"}}]}`
)

func pubSPDX(v string) string {
	return `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"weather","documentNamespace":"https://example.com/w",
"creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: test"]},"packages":[{"name":"lodash","SPDXID":"SPDXRef-Package-lodash",
"versionInfo":"` + v + `","downloadLocation":"NOASSERTION","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/lodash@` + v + `"}]}]}`
}

// publishEnv is a registry served by `vetted serve` in process, an OCI registry, a signing
// key, and the CLI pointed at both.
type publishEnv struct {
	reg      *sigtest.Registry
	key      *sigtest.Key
	url      string
	dir, cfg string
	token    string
	stop     func() error
}

func newPublishEnv(t *testing.T, db string, extra ...string) *publishEnv {
	t.Helper()
	return newPublishEnvPolicy(t, db, "", extra...)
}

// newPublishEnvPolicy is newPublishEnv with policyExtra appended to the namespace policy.
func newPublishEnvPolicy(t *testing.T, db, policyExtra string, extra ...string) *publishEnv {
	t.Helper()
	p := &publishEnv{reg: sigtest.NewRegistry(t, false, nil), key: sigtest.NewKey(t), dir: t.TempDir()}
	osvDir := filepath.Join(p.dir, "osv", "npm")
	os.MkdirAll(osvDir, 0o755)
	os.WriteFile(filepath.Join(osvDir, "GHSA-test-0003.json"), []byte(pubOSV), 0o644)
	pol := "authorities:\n  - name: release-key\n    key:\n      pem: |\n        " +
		strings.ReplaceAll(strings.TrimSpace(p.key.PublicPEM(t)), "\n", "\n        ") + "\n" + policyExtra
	if !strings.Contains(policyExtra, "require:") {
		pol += "require: {signature: true, sbom: true, tools: true}\n"
	}
	os.WriteFile(filepath.Join(p.dir, "acme-policy.yaml"), []byte(pol), 0o644)
	p.cfg = filepath.Join(p.dir, "vetted.yaml")
	cfg := `auth:
  resource: http://vetted.test
outbound:
  allow_hosts: ["127.0.0.1"]
  allow_networks: [127.0.0.0/8]
publish:
  policies:
    - namespace: io.github.acme/*
      policy: acme-policy.yaml
  insecure_registries: [` + p.reg.Host + `]
  osv_dir: osv
` + strings.Join(extra, "\n") + "\n"
	os.WriteFile(p.cfg, []byte(cfg), 0o644)
	env := map[string]string{}
	if db != "" {
		env["VETTED_DATABASE"] = db
	}
	addr, stop := startServe(t, env, "--data-dir", filepath.Join(p.dir, "data"), "--config", p.cfg)
	p.url, p.stop = "http://"+addr, stop
	out, stderr, code := runCLI(t, "token", "issue", "--role", "publisher", "--namespace", "io.github.acme/*", "--data-dir", filepath.Join(p.dir, "data"), "--config", p.cfg)
	if code != 0 {
		t.Fatalf("token issue: %d %s", code, stderr)
	}
	p.token = strings.TrimSpace(out)
	return p
}

// push pushes and signs an image as cosign sign/attest --key would.
func (p *publishEnv) push(t *testing.T, tag, sbom, tools string, sign bool) string {
	t.Helper()
	d := p.reg.PushImage(t, "acme/weather", tag)
	ref := p.reg.Ref("acme/weather", tag)
	if sign {
		payload := sigtest.SimpleSigning(ref, d)
		p.reg.AttachSig(t, "acme/weather", d, sigtest.SigLayer(payload, p.key.Sign(t, payload), nil))
	}
	var layers []sigtest.Layer
	if sbom != "" {
		layers = append(layers, sigtest.AttLayer(p.key.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateSPDX, sbom))))
	}
	if tools != "" {
		layers = append(layers, sigtest.AttLayer(p.key.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateToolManifest, tools))))
	}
	if len(layers) > 0 {
		p.reg.AttachAtt(t, "acme/weather", d, layers...)
	}
	return ref
}

func (p *publishEnv) serverJSON(t *testing.T, name, version, ref string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "server.json")
	os.WriteFile(f, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"`+name+
		`","description":"Weather","version":"`+version+`","packages":[{"registryType":"oci","identifier":"`+ref+`","transport":{"type":"stdio"}}]}`), 0o644)
	return f
}

func (p *publishEnv) cli(t *testing.T, environ map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return environ[k] }})
	if err != nil && !isSilent(err) {
		errb.WriteString("vetted: " + err.Error() + "\n") // as main prints it
	}
	return out.String(), errb.String(), ExitCode(err)
}

func TestPublishResolveAudit(t *testing.T) {
	p := newPublishEnv(t, "")
	tok := map[string]string{"VETTED_TOKEN": p.token}

	sj := p.serverJSON(t, "io.github.acme/weather", "1.0.0", p.push(t, "1.0.0", pubSPDX("4.17.21"), pubTools1, true))
	out, errOut, code := p.cli(t, tok, "publish", sj, "--registry", p.url)
	if code != 0 || !strings.Contains(out, "decision: published") || !strings.Contains(out, "@sha256:") {
		t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
	}
	// Idempotent.
	if out, _, code = p.cli(t, tok, "publish", sj, "--registry", p.url); code != 0 || !strings.Contains(out, "identical content") {
		t.Fatalf("replay: %d %s", code, out)
	}
	// resolve prints the pinned reference and manifest digest, and verifies the VSA.
	out, errOut, code = p.cli(t, nil, "resolve", "io.github.acme/weather", "--registry", p.url, "--verify", "--json")
	var r Resolved
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Verified == nil || !*r.Verified || len(r.Packages) != 1 ||
		!strings.Contains(r.Packages[0].Identifier, "@sha256:") || !strings.HasPrefix(r.ToolManifestDigest, "sha256:") {
		t.Fatalf("resolve: %d %s %s", code, out, errOut)
	}
	// The tool pin the tools helper's `vetted check --registry` reads.
	code2, body := httpGet(t, p.url+"/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.0.0/tools")
	if code2 != 200 || body != pubTools1 {
		t.Fatalf("tools: %d %s", code2, body)
	}

	// Rejections, each naming its check; exit 1.
	for _, c := range []struct {
		name, ref, want string
	}{
		{"unsigned", p.push(t, "unsigned", pubSPDX("4.17.21"), pubTools1, false), "signature"},
		{"no SBOM", p.push(t, "nosbom", "", pubTools1, true), "sbom"},
		{"critical vulnerability", p.push(t, "vuln", pubSPDX("4.17.0"), pubTools1, true), "GHSA-test-0003 (critical)"},
	} {
		out, _, code := p.cli(t, tok, "publish", p.serverJSON(t, "io.github.acme/weather", "1.0.1-"+strings.ReplaceAll(c.name, " ", ""), c.ref), "--registry", p.url)
		if code != 1 || !strings.Contains(out, "decision: rejected") || !strings.Contains(out, c.want) {
			t.Fatalf("%s: %d\n%s", c.name, code, out)
		}
	}
	// A token for another namespace.
	out, errOut, code = p.cli(t, tok, "publish", p.serverJSON(t, "io.github.other/weather", "1.0.0", p.push(t, "o", pubSPDX("4.17.21"), pubTools1, true)), "--registry", p.url)
	if code != 1 || !strings.Contains(errOut, "403") || !strings.Contains(errOut, "io.github.other/weather") {
		t.Fatalf("other namespace: %d %s %s", code, out, errOut)
	}
	// A server.json that fails the official schema (no description): exit 2, naming the field.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","version":"9.0.0","packages":[{"registryType":"oci","identifier":"x:1","transport":{"type":"stdio"}}]}`), 0o644)
	if _, errOut, code = p.cli(t, tok, "publish", bad, "--registry", p.url); code != 2 || !strings.Contains(errOut, "description") {
		t.Fatalf("schema: %d %s", code, errOut)
	}
	// No token at all.
	if _, errOut, code = p.cli(t, nil, "publish", sj, "--registry", p.url); code != 2 || !strings.Contains(errOut, "no token") {
		t.Fatalf("no token: %d %s", code, errOut)
	}
	// A changed tool description: pending_review, exit 0, not resolvable.
	out, _, code = p.cli(t, tok, "publish", p.serverJSON(t, "io.github.acme/weather", "1.1.0", p.push(t, "1.1.0", pubSPDX("4.17.21"), pubTools2, true)), "--registry", p.url)
	if code != 0 || !strings.Contains(out, "decision: pending_review") || !strings.Contains(out, "forecast") {
		t.Fatalf("pending: %d %s", code, out)
	}
	if _, _, code = p.cli(t, nil, "resolve", "io.github.acme/weather@1.1.0", "--registry", p.url); code != 1 {
		t.Fatalf("pending version resolved: %d", code)
	}

	// The audit chain verifies from the data dir, after the server stopped.
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = p.cli(t, nil, "audit", "verify", "--data-dir", filepath.Join(p.dir, "data"), "--json")
	var ar auditResult
	// 1 config.change at start + 1 published + 3 rejected + 1 pending_review.
	if code != 0 || json.Unmarshal([]byte(out), &ar) != nil || !ar.OK || ar.Events != 6 {
		t.Fatalf("audit verify: %d %s %s", code, out, errOut)
	}
}

func TestPublishPostgresTwoReplicas(t *testing.T) {
	dsn := testSchemaDSN(t, testenv.PostgresDSN(t))
	p := newPublishEnv(t, dsn)
	addr2, _ := startServe(t, map[string]string{"VETTED_DATABASE": dsn}, "--data-dir", filepath.Join(p.dir, "data"), "--config", p.cfg)
	tok := map[string]string{"VETTED_TOKEN": p.token}
	sj := p.serverJSON(t, "io.github.acme/weather", "1.0.0", p.push(t, "1.0.0", pubSPDX("4.17.21"), pubTools1, true))
	type res struct {
		out  string
		code int
	}
	results := make(chan res, 6)
	for i := 0; i < 6; i++ {
		url := p.url
		if i%2 == 1 {
			url = "http://" + addr2
		}
		go func() {
			out, errOut, code := p.cli(t, tok, "publish", sj, "--registry", url)
			results <- res{out + errOut, code}
		}()
	}
	created := 0
	for i := 0; i < 6; i++ {
		r := <-results
		if r.code != 0 {
			t.Fatalf("publish: %d %s", r.code, r.out)
		}
		if !strings.Contains(r.out, "identical content") {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d publishes created the version, want 1", created)
	}
	out, _, code := p.cli(t, nil, "audit", "verify", "--database", dsn, "--json")
	// One config.change (the second replica's configuration is the same) and one publish.
	if code != 0 || !strings.Contains(out, `"events": 2`) {
		t.Fatalf("audit: %d %s", code, out)
	}
}

func TestContinuousScanningServe(t *testing.T) {
	hooks := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- string(b)
	}))
	defer hook.Close()
	p := newPublishEnv(t, "", "  webhook: "+hook.URL)
	tok := map[string]string{"VETTED_TOKEN": p.token}
	sj := p.serverJSON(t, "io.github.acme/weather", "1.0.0", p.push(t, "1.0.0", pubSPDX("4.17.21"), pubTools1, true))
	if out, _, code := p.cli(t, tok, "publish", sj, "--registry", p.url); code != 0 {
		t.Fatalf("publish: %s", out)
	}
	admin, stderr, code := runCLI(t, "token", "issue", "--role", "admin", "--data-dir", filepath.Join(p.dir, "data"), "--config", p.cfg)
	if code != 0 {
		t.Fatal(stderr)
	}
	rescan := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, p.url+"/v0.1/x/dev.vetted/admin/rescan", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// A publisher may not run it.
	if c, body := rescan(p.token); c != http.StatusForbidden {
		t.Fatalf("publisher rescan: %d %s", c, body)
	}
	// The advisory now covers 4.17.21: the re-scan quarantines the version.
	os.WriteFile(filepath.Join(p.dir, "osv", "npm", "GHSA-test-0003.json"), []byte(strings.Replace(pubOSV, `"fixed":"4.17.21"`, `"fixed":"4.17.22"`, 1)), 0o644)
	c, body := rescan(admin)
	if c != 200 || !strings.Contains(body, `"event":"quarantined"`) {
		t.Fatalf("rescan: %d %s", c, body)
	}
	select {
	case h := <-hooks:
		if !strings.Contains(h, `"event":"quarantined"`) || !strings.Contains(h, `"server":"io.github.acme/weather"`) {
			t.Fatalf("webhook: %s", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook")
	}
	if c, _ := httpGet(t, p.url+"/v0.1/servers/io.github.acme%2Fweather/versions/latest"); c != 404 {
		t.Fatalf("quarantined version still served: %d", c)
	}
	// Corrected again: released.
	os.WriteFile(filepath.Join(p.dir, "osv", "npm", "GHSA-test-0003.json"), []byte(pubOSV), 0o644)
	if c, body = rescan(admin); c != 200 || !strings.Contains(body, `"event":"released"`) {
		t.Fatalf("release: %d %s", c, body)
	}
	if c, _ := httpGet(t, p.url+"/v0.1/servers/io.github.acme%2Fweather/versions/latest"); c != 200 {
		t.Fatalf("released version not served: %d", c)
	}
	if out, _, code := p.cli(t, map[string]string{"VETTED_TOKEN": strings.TrimSpace(admin)}, "audit", "verify", "--registry", p.url); code != 0 || !strings.Contains(out, "4 events") {
		t.Fatalf("audit via API: %d %s", code, out)
	}
}

// The GitHub Actions path: an OIDC token requested for the registry's audience, which the
// registry announces in its RFC 9728 metadata.
func TestPublishTokenFromGitHubActions(t *testing.T) {
	var gotAud, gotAuth string
	actions := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAud, gotAuth = r.URL.Query().Get("audience"), r.Header.Get("Authorization")
		w.Write([]byte(`{"value":"gh-oidc-token"}`))
	}))
	defer actions.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-protected-resource" {
			w.Write([]byte(`{"resource":"https://vetted.example.com"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer reg.Close()
	c, err := newRegClient(reg.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": actions.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runtime-token"}
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return environ[k] }}
	tok, src, err := publishToken(context.Background(), e, c, "", "")
	if err != nil || tok != "gh-oidc-token" || gotAud != "https://vetted.example.com" || gotAuth != "bearer runtime-token" || !strings.Contains(src, "GitHub Actions") {
		t.Fatalf("token %q (%s) %v; audience %q auth %q", tok, src, err, gotAud, gotAuth)
	}
	// --audience wins; --token and $VETTED_TOKEN win over the Actions runtime.
	if _, _, err := publishToken(context.Background(), e, c, "", "aud-x"); err != nil || gotAud != "aud-x" {
		t.Fatalf("--audience: %v %q", err, gotAud)
	}
	environ["VETTED_TOKEN"] = "env-token"
	if tok, _, _ := publishToken(context.Background(), e, c, "", ""); tok != "env-token" {
		t.Fatalf("VETTED_TOKEN: %q", tok)
	}
	if tok, _, _ := publishToken(context.Background(), e, c, "flag-token", ""); tok != "flag-token" {
		t.Fatalf("--token: %q", tok)
	}
}

// The scheduled job: with rescan.interval set, a changed OSV snapshot quarantines a version
// without anyone asking.
func TestScheduledRescan(t *testing.T) {
	p := newPublishEnv(t, "", "  rescan:\n    interval: 1s")
	sj := p.serverJSON(t, "io.github.acme/weather", "1.0.0", p.push(t, "1.0.0", pubSPDX("4.17.21"), pubTools1, true))
	if out, _, code := p.cli(t, map[string]string{"VETTED_TOKEN": p.token}, "publish", sj, "--registry", p.url); code != 0 {
		t.Fatalf("publish: %s", out)
	}
	os.WriteFile(filepath.Join(p.dir, "osv", "npm", "GHSA-test-0003.json"), []byte(strings.Replace(pubOSV, `"fixed":"4.17.21"`, `"fixed":"4.17.22"`, 1)), 0o644)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, _ := httpGet(t, p.url+"/v0.1/servers/io.github.acme%2Fweather/versions/latest"); c == 404 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduled re-scan did not quarantine the version")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Publishing to something that is not a Vetted registry says so instead of printing an empty
// decision: an official MCP registry (accepts, no Vetted _meta), a web page, a 404.
func TestPublishToANonVettedRegistry(t *testing.T) {
	f := filepath.Join(t.TempDir(), "server.json")
	os.WriteFile(f, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/w","description":"w","version":"1.0.0","remotes":[{"type":"streamable-http","url":"https://w.example/mcp"}]}`), 0o644)
	for _, c := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   string
	}{
		{"official registry", 200, "application/json", `{"server":{"name":"io.github.acme/w","version":"1.0.0"},"_meta":{"io.modelcontextprotocol.registry/official":{"status":"active"}}}`, "without a Vetted decision"},
		{"web page", 200, "text/html", `<html>hello</html>`, "it is not a Vetted registry"},
		{"no endpoint", 404, "text/plain", `404 page not found`, "has no publish endpoint (POST /v0.1/publish answered 404)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.ctype)
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			var out bytes.Buffer
			err := run(context.Background(), []string{"publish", f, "--registry", srv.URL, "--token", "t"}, &env{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }})
			if ExitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exit %d, %v; want %q", ExitCode(err), err, c.want)
			}
			if strings.Contains(out.String(), "decision:") {
				t.Fatalf("printed a decision: %s", out.String())
			}
		})
	}
}

// Fields the schema keeps but that have no effect on an OCI package (registryBaseUrl,
// version) get a warning in the answer, published or rejected.
func TestPublishWarnsAboutIgnoredOCIFields(t *testing.T) {
	p := newPublishEnv(t, "")
	tok := map[string]string{"VETTED_TOKEN": p.token}
	ref := p.push(t, "1.0.0", pubSPDX("4.17.21"), pubTools1, true)
	sj := filepath.Join(t.TempDir(), "server.json")
	os.WriteFile(sj, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather",
"description":"Weather","version":"1.0.0","packages":[{"registryType":"oci","registryBaseUrl":"https://docker.io","identifier":"`+ref+`","version":"1.0.0","transport":{"type":"stdio"}}]}`), 0o644)
	out, errOut, code := p.cli(t, tok, "publish", sj, "--registry", p.url)
	if code != 0 || !strings.Contains(out, "decision: published") {
		t.Fatalf("publish: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`warning: packages[0].registryBaseUrl "https://docker.io" is ignored for OCI packages: the identifier`,
		`warning: packages[0].version "1.0.0" is ignored for OCI packages: the tag or digest in the identifier`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the answer lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = p.cli(t, tok, "publish", sj, "--registry", p.url, "--json")
	var a struct {
		Meta struct {
			Publish struct{ Warnings []string } `json:"dev.vetted/publish"`
		} `json:"_meta"`
	}
	if json.Unmarshal([]byte(out), &a) != nil || len(a.Meta.Publish.Warnings) != 2 {
		t.Fatalf("--json warnings: %s", out)
	}
}

// --evidence sends a publish envelope: the server.json embedded byte for byte, then each
// bundle in the order given (the registry names them evidence[i]); bad evidence files are
// usage errors before anything is sent.
func TestPublishEvidenceEnvelope(t *testing.T) {
	dir := t.TempDir()
	sjBytes := "{\n  \"$schema\": \"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json\", \"name\": \"io.github.acme/w\", \"description\": \"w\", \"version\": \"1.0.0\",\n" +
		"  \"packages\": [{\"registryType\": \"npm\", \"identifier\": \"@acme/w\", \"version\": \"1.0.0\", \"transport\": {\"type\": \"stdio\"}}]}\n"
	sj := filepath.Join(dir, "server.json")
	os.WriteFile(sj, []byte(sjBytes), 0o644)
	write := func(name, s string) string {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(s), 0o644)
		return f
	}
	sbom, tools := write("sbom.sigstore.json", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","n":1}`+"\n"), write("tools.sigstore.json", `{"n":2}`)
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"server":{"name":"io.github.acme/w","version":"1.0.0"},"_meta":{"dev.vetted/publish":{"decision":"published","created":true,"checks":[]}}}`)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"publish", sj, "--registry", srv.URL, "--token", "t", "--evidence", sbom, "--evidence", tools},
		&env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var sent struct {
		Server   json.RawMessage
		Evidence []json.RawMessage
	}
	if err := json.Unmarshal(got, &sent); err != nil || len(sent.Evidence) != 2 || strings.TrimSpace(string(sent.Evidence[0])) != strings.TrimSpace(readFile(t, sbom)) ||
		string(sent.Evidence[1]) != `{"n":2}` || !strings.Contains(string(got), `{"server":`+sjBytes+`,"evidence":[`) {
		t.Fatalf("sent %s (%v)", got, err)
	}
	if !strings.Contains(errb.String(), "evidence[0]: "+sbom) || !strings.Contains(errb.String(), "evidence[1]: "+tools) {
		t.Fatalf("stderr: %s", errb.String())
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"not JSON", []string{"--evidence", write("x.bundle", "not json")}, "is not a JSON Sigstore bundle"},
		{"an array", []string{"--evidence", write("y.bundle", "[]")}, "is not a JSON Sigstore bundle"},
		{"missing", []string{"--evidence", filepath.Join(dir, "nope")}, "read "},
		{"too many", strings.Fields(strings.Repeat("--evidence "+tools+" ", 9)), "9 --evidence files; a publish carries at most 8"},
	} {
		got = nil
		err := run(context.Background(), append([]string{"publish", sj, "--registry", srv.URL, "--token", "t"}, c.args...),
			&env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
		if ExitCode(err) != 2 || !strings.Contains(err.Error(), c.want) || got != nil {
			t.Errorf("%s: exit %d %v (sent: %v)", c.name, ExitCode(err), err, got != nil)
		}
	}
}

func readFile(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
