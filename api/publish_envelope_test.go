package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/internal/strictjson"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

// envVerifier answers like adapt for OCI packages and for npm packages (a pin, a tool
// manifest, an SBOM), and records the evidence each npm request carried.
type envVerifier struct {
	mu       sync.Mutex
	evidence [][]byte
}

func (v *envVerifier) VerifyPackage(ctx context.Context, r registry.VerifyRequest) (*registry.VerifiedPackage, error) {
	if r.RegistryType != "npm" {
		return pubVerifier{}.VerifyPackage(ctx, r)
	}
	v.mu.Lock()
	v.evidence = r.Evidence
	v.mu.Unlock()
	vp := &registry.VerifiedPackage{Digest: pubDigest, Pinned: r.Reference + "@" + r.Version,
		Checks: []registry.Check{{Name: registry.CheckSignature, Outcome: registry.Pass, Reason: "signed"}},
		SBOM:   []byte(`{}`), ToolManifest: []byte(`{"tools":[{"name":"forecast"}]}`), Result: json.RawMessage(`{"passed":true}`),
		NPM: &registry.NPMPin{Name: r.Reference, Version: r.Version, Integrity: "sha512-AAAA", SHA256: pubDigest, TarballURL: "https://registry.npmjs.org/x.tgz", SBOMSource: "attestation"}}
	for i, e := range r.Evidence {
		vp.Evidence = append(vp.Evidence, registry.RoledBlob{Role: fmt.Sprintf("signed-evidence-%d", i), Blob: registry.NewBlob("application/json", e)})
	}
	return vp, nil
}

func newEnvelopeServer(t testing.TB) (*Server, *envVerifier) {
	t.Helper()
	st := openSQLite(t).(*sqlite.Store)
	v := &envVerifier{}
	p, err := registry.NewPipeline(st, v, pubScanner{}, pubTools{}, registry.WithVSASigner(pubVSA{}))
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, st, WithPublishing(PublishConfig{
		Pipeline: p, Evidence: st, Audit: st,
		Caller: func(ctx context.Context) (string, registry.Authorizer) {
			return "test|ci", registry.AuthorizerFunc(func(string) error { return nil })
		},
	})), v
}

func npmBody(version string) string {
	return fmt.Sprintf(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":%q,"packages":[{"registryType":"npm","identifier":"@acme/weather","version":%q,"transport":{"type":"stdio"}}]}`, version, version)
}

const (
	bundleA = `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","a":1}`
	bundleB = `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","b":[2]}`
)

// An envelope's evidence reaches the verifier byte for byte, in order, and is stored; a
// plain server.json keeps working.
func TestPublishEnvelopeCarriesEvidence(t *testing.T) {
	srv, v := newEnvelopeServer(t)
	h := srv.Handler()
	if r := post(t, h, "/v0.1/publish", pubBody("io.github.acme/plain", "1.0.0", "ghcr.io/acme/w:1")); r.code != 200 {
		t.Fatalf("plain body: %d %s", r.code, r.body)
	}
	body := "{\n  \"evidence\": [" + bundleA + ",\n " + bundleB + "],\n  \"server\": " + npmBody("1.0.0") + "\n}"
	r := post(t, h, "/v0.1/publish", body)
	if r.code != 200 || !strings.Contains(r.body, `"decision":"published"`) {
		t.Fatalf("envelope: %d %s", r.code, r.body)
	}
	if len(v.evidence) != 2 || string(v.evidence[0]) != bundleA || string(v.evidence[1]) != bundleB {
		t.Fatalf("evidence reaching the verifier: %q", v.evidence)
	}
	ev := get(t, h, "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.0.0/verification")
	if ev.code != 200 || !strings.Contains(ev.body, "signed-evidence-0") || !strings.Contains(ev.body, "signed-evidence-1") ||
		!strings.Contains(ev.body, registry.Digest([]byte(bundleB))) {
		t.Fatalf("stored evidence: %d %s", ev.code, ev.body)
	}
	// Idempotent: the same server.json in a plain body is the same version.
	if r := post(t, h, "/v0.1/publish", npmBody("1.0.0")); r.code != 200 || !strings.Contains(r.body, `"created":false`) {
		t.Fatalf("replay: %d %s", r.code, r.body)
	}
}

// Every malformed envelope is a 4xx naming the member; the server.json inside is judged
// exactly as a plain body, its errors placed under body.server.
func TestPublishEnvelopeRefusals(t *testing.T) {
	srv, v := newEnvelopeServer(t)
	h := srv.Handler()
	srvJSON := npmBody("1.0.0")
	big := `{"x":"` + strings.Repeat("a", MaxEvidenceBundle) + `"}`
	many := strings.TrimSuffix(strings.Repeat(bundleA+",", MaxEvidence+1), ",")
	caseVariant := strings.Replace(srvJSON, `"description"`, `"Name":"io.github.other/spoof","description"`, 1)
	for _, c := range []struct {
		name, body string
		code       int
		loc, why   string
	}{
		{"Server", `{"Server":` + srvJSON + `,"evidence":[` + bundleA + `]}`, 422, `"location":"body.Server"`, `differs from the envelope member \"server\" only by letter case`},
		{"Evidence with a server", `{"server":` + srvJSON + `,"Evidence":[` + bundleA + `]}`, 422, `"location":"body.Evidence"`, "only by letter case"},
		{"long s server", `{"\u017ferver":` + srvJSON + `}`, 422, `body[\"\\u017ferver\"]`, "only by letter case"},
		{"Kelvin-free fold: SERVERJSONBUNDLE", `{"server":` + srvJSON + `,"SERVERJSONBUNDLE":{}}`, 422, "body.SERVERJSONBUNDLE", "only by letter case"},
		{"duplicate server", `{"server":` + pubBody("io.github.acme/a", "1.0.0", "x:1") + `,"server":` + srvJSON + `}`, 422, `"location":"body.server"`, "duplicate key"},
		{"duplicate evidence", `{"server":` + srvJSON + `,"evidence":[],"evidence":[` + bundleA + `]}`, 422, `"location":"body.evidence"`, "duplicate key"},
		{"server.json key beside the envelope", `{"server":` + srvJSON + `,"name":"io.github.acme/other"}`, 422, `"location":"body.name"`, "unknown key in a publish envelope"},
		{"no server", `{"evidence":[` + bundleA + `]}`, 422, `"location":"body.server"`, "required"},
		{"server not an object", `{"server":"` + strings.ReplaceAll(srvJSON, `"`, `\"`) + `"}`, 422, `"location":"body.server"`, "got a string"},
		{"evidence not an array", `{"server":` + srvJSON + `,"evidence":` + bundleA + `}`, 422, `"location":"body.evidence"`, "got an object"},
		{"evidence item a string", `{"server":` + srvJSON + `,"evidence":[` + bundleA + `,"eyJ9"]}`, 422, `"location":"body.evidence[1]"`, "got a string"},
		{"too many bundles", `{"server":` + srvJSON + `,"evidence":[` + many + `]}`, 422, `"location":"body.evidence"`, fmt.Sprintf("%d bundles; at most %d", MaxEvidence+1, MaxEvidence)},
		{"bundle too large", `{"server":` + srvJSON + `,"evidence":[` + bundleA + `,` + big + `]}`, 413, `"location":"body.evidence[1]"`, "bundle larger than"},
		{"server.json too large", `{"server":{"name":"` + strings.Repeat("a", registry.MaxServerJSON) + `"}}`, 413, `"location":"body.server"`, "request body too large"},
		{"serverJSONBundle not an object", `{"server":` + srvJSON + `,"serverJSONBundle":"e30="}`, 422, `"location":"body.serverJSONBundle"`, "got a string"},
		{"trailing data", `{"server":` + srvJSON + `} {}`, 400, "", "trailing data"},
		{"broken JSON", `{"server":` + srvJSON + `,"evidence":[{]}`, 400, `"location":"body.evidence"`, "invalid JSON"},
		{"not UTF-8", "{\"server\":" + srvJSON + ",\"evidence\":[{\"x\":\"\xff\"}]}", 400, "", "not valid UTF-8"},
		// The server.json's own rules, unchanged, under body.server.
		{"case variant inside server", `{"server":` + caseVariant + `}`, 422, `"location":"body.server.Name"`, "only by letter case"},
		{"duplicate inside server", `{"server":` + strings.Replace(srvJSON, `"version":"1.0.0"`, `"version":"1.0.0","version":"1.0.1"`, 1) + `}`, 422, `"location":"body.server.version"`, "duplicate key"},
		{"version range inside server", `{"server":` + npmBody("^1.0.0") + `}`, 422, `"location":"body.server.version"`, "version range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v.evidence = nil
			r := post(t, h, "/v0.1/publish", c.body)
			if r.code != c.code || !strings.Contains(r.body, c.loc) || !strings.Contains(r.body, c.why) {
				t.Fatalf("%d %.600s\nwant %d %s %s", r.code, r.body, c.code, c.loc, c.why)
			}
			if v.evidence != nil {
				t.Fatal("a refused envelope reached the verifier")
			}
		})
	}
	// A plain server.json over the server.json bound is still 413, naming the bound.
	if r := post(t, h, "/v0.1/publish", `{"name":"`+strings.Repeat("a", registry.MaxServerJSON)+`"}`); r.code != 413 || !strings.Contains(r.body, "request body too large") {
		t.Fatalf("plain too large: %d %.300s", r.code, r.body)
	}
	// The same bundle in the header and in the envelope: send one.
	hdr := map[string]string{ServerJSONBundleHeader: base64.StdEncoding.EncodeToString([]byte(bundleA))}
	if r := postWith(t, h, `{"server":`+srvJSON+`,"serverJSONBundle":`+bundleA+`}`, hdr); r.code != 400 || !strings.Contains(r.body, "send one") {
		t.Fatalf("bundle twice: %d %.300s", r.code, r.body)
	}
}

// The server member is handed on byte for byte, whitespace around it included, so that a
// bundle over the exact bytes of the file vetted publish embedded still binds.
func TestSplitPublishBodyServerBytes(t *testing.T) {
	file := "  " + npmBody("1.0.0") + "\n"
	for _, body := range []string{
		`{"server":` + file + `,"evidence":[]}`,
		`{"evidence":[],"server":` + file + `}`,
		"{\"serverJSONBundle\":{} ,\"server\":" + file + "}",
	} {
		env, err := splitPublishBody([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if !env.Envelope || string(env.ServerJSON) != file {
			t.Fatalf("server bytes %q from %q", env.ServerJSON, body)
		}
	}
	plain := npmBody("1.0.0")
	if env, err := splitPublishBody([]byte(plain)); err != nil || env.Envelope || string(env.ServerJSON) != plain {
		t.Fatalf("plain: %+v %v", env, err)
	}
}

// FuzzPublishEnvelope: whatever the body, splitPublishBody never panics, and what it accepts
// has one meaning — a case-insensitive decoder (encoding/json, huma) reads the same server,
// evidence and bundle from it; what it calls plain has no key that such a decoder would read
// as an envelope member.
func FuzzPublishEnvelope(f *testing.F) {
	srvJSON := npmBody("1.0.0")
	for _, s := range []string{
		srvJSON,
		`{"server":` + srvJSON + `,"evidence":[` + bundleA + `,` + bundleB + `]}`,
		`{"server":` + srvJSON + `,"Server":{}}`,
		`{"server":` + srvJSON + `,"\u017ferver":{}}`,
		`{"evidence":[],"server":{},"serverJSONBundle":{"a":1}}`,
		`{"server":{},"server":{}}`,
		`{"SERVER":{}}`,
		`[]`, `{`, `{"server":1}`, `{"evidence":[1]}`, `{"serverjsonbundle":{}}`,
	} {
		f.Add([]byte(s))
	}
	type folded struct {
		Server           json.RawMessage
		Evidence         []json.RawMessage
		ServerJSONBundle json.RawMessage
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, eerr := splitPublishBody(body)
		if eerr != nil {
			if eerr.status < 400 || eerr.status > 499 || eerr.location == "" {
				t.Fatalf("bad refusal %+v", eerr)
			}
			return
		}
		if !env.Envelope {
			if !bytes.Equal(env.ServerJSON, body) {
				t.Fatal("a plain body was changed")
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(body, &m) == nil {
				for k := range m {
					for _, em := range envelopeKeys {
						if strictjson.EqualFold(k, em) {
							t.Fatalf("plain body with the envelope key %q", k)
						}
					}
				}
			}
			return
		}
		var g folded
		if err := json.Unmarshal(body, &g); err != nil {
			t.Fatalf("accepted an envelope encoding/json refuses: %v", err)
		}
		if !bytes.Equal(bytes.TrimSpace(env.ServerJSON), g.Server) || !bytes.Equal(env.ServerJSONBundle, g.ServerJSONBundle) || len(env.Evidence) != len(g.Evidence) {
			t.Fatalf("two meanings:\nours   %q %q %d\ntheirs %q %q %d", env.ServerJSON, env.ServerJSONBundle, len(env.Evidence), g.Server, g.ServerJSONBundle, len(g.Evidence))
		}
		for i := range env.Evidence {
			if !bytes.Equal(env.Evidence[i], g.Evidence[i]) {
				t.Fatalf("evidence[%d] differs", i)
			}
		}
	})
}
