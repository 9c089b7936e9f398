package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

type publishStore interface {
	registry.Store
	registry.PublishStore
	registry.EvidenceStore
}

// newPublishServerOn is newPublishServer on any store, for a caller who may publish under
// allow only (a publisher token for "allow*").
func newPublishServerOn(t testing.TB, st publishStore, allow string) *Server {
	t.Helper()
	p, err := registry.NewPipeline(st, pubVerifier{}, pubScanner{}, pubTools{}, registry.WithVSASigner(pubVSA{}))
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, st, WithPublishing(PublishConfig{
		Pipeline: p, Evidence: st, Audit: st,
		Caller: func(ctx context.Context) (string, registry.Authorizer) {
			return "test|ci", registry.AuthorizerFunc(func(name string) error {
				if !strings.HasPrefix(name, allow) {
					return fmt.Errorf("may publish %s* only, not %s", allow, name)
				}
				return nil
			})
		},
	}))
}

const unsignedPkg = `{"registryType":"oci","identifier":"ghcr.io/acme/unsigned:1","transport":{"type":"stdio"}}`

// The reproducers of issue 17 items 1 and 2, on both stores: each is refused with 422
// naming the key, and nothing is stored, served or audited.
func TestPublishRefusesCaseVariantKeys(t *testing.T) {
	acme := pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")
	with := func(old, new string) string {
		if !strings.Contains(acme, old) {
			t.Fatalf("%q not in the body", old)
		}
		return strings.Replace(acme, old, new, 1)
	}
	cases := []struct {
		name, allow, body, loc, reason string
	}{
		// Item 1: a token for io.github.other/*, acme's name, plus "Name" (after and before).
		{"Name after name", "io.github.other/", with(`"description"`, `"Name":"io.github.other/spoof","description"`), `body.Name`, `only by letter case`},
		{"Name before name", "io.github.other/", with(`"name"`, `"Name":"io.github.other/spoof","name"`), `body.Name`, `only by letter case`},
		{"NAME", "io.github.other/", with(`"description"`, `"NAME":"io.github.other/spoof","description"`), `body.NAME`, `only by letter case`},
		{"name with long s? no s: nAme", "io.github.other/", with(`"description"`, `"nAme":"io.github.other/spoof","description"`), `body.nAme`, `only by letter case`},
		// Item 2: an unsigned image under "pac\u212Aages" before the real "packages",
		// escaped and as the raw character.
		{"Kelvin packages escaped", "io.github.acme/", with(`"packages"`, `"pac\u212Aages":[`+unsignedPkg+`],"packages"`), `body["pac\u212aages"]`, `differs from the known key "packages" only by letter case`},
		{"Kelvin packages raw", "io.github.acme/", with(`"packages"`, "\"pac\u212aages\":["+unsignedPkg+`],"packages"`), `body["pac\u212aages"]`, `only by letter case`},
		{"Packages", "io.github.acme/", with(`"packages"`, `"Packages":[`+unsignedPkg+`],"packages"`), `body.Packages`, `only by letter case`},
		// The version and remotes variants.
		{"Version", "io.github.acme/", with(`"description"`, `"Version":"9.9.9","description"`), `body.Version`, `only by letter case`},
		{"long s version", "io.github.acme/", with(`"description"`, `"ver\u017fion":"9.9.9","description"`), `body["ver\u017fion"]`, `differs from the known key "version"`},
		{"Remotes", "io.github.acme/", with(`"description"`, `"Remotes":[{"type":"sse","url":"https://attacker.example/mcp"}],"description"`), `body.Remotes`, `only by letter case`},
		{"long s remotes", "io.github.acme/", with(`"description"`, `"remote\u017f":[{"type":"sse","url":"https://attacker.example/mcp"}],"description"`), `body["remote\u017f"]`, `differs from the known key "remotes"`},
		// Deeper: inside a package, its transport, and an unknown key.
		{"package Identifier", "io.github.acme/", with(`"identifier"`, `"Identifier":"ghcr.io/acme/unsigned:1","identifier"`), `body.packages[0].Identifier`, `only by letter case`},
		{"transport URL", "io.github.acme/", with(`"type":"stdio"`, `"type":"stdio","URL":"http://x"`), `body.packages[0].transport.URL`, `only by letter case`},
		{"unknown key", "io.github.acme/", with(`"description"`, `"packagez":[`+unsignedPkg+`],"description"`), `body.packagez`, `unknown key`},
		{"exact duplicate", "io.github.acme/", with(`"packages"`, `"packages":[`+unsignedPkg+`],"packages"`), `body.packages`, `duplicate key`},
	}
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t).(publishStore)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					srv := newPublishServerOn(t, st, c.allow)
					r := post(t, srv.Handler(), "/v0.1/publish", c.body)
					if r.code != http.StatusUnprocessableEntity {
						t.Fatalf("%d %s", r.code, r.body)
					}
					var p struct {
						Errors []struct{ Location, Message string }
					}
					if err := json.Unmarshal([]byte(r.body), &p); err != nil {
						t.Fatal(err)
					}
					found := false
					for _, e := range p.Errors {
						found = found || e.Location == c.loc && strings.Contains(e.Message, c.reason)
					}
					if !found {
						t.Fatalf("no error at %s …%s…: %s", c.loc, c.reason, r.body)
					}
				})
			}
			ctx := context.Background()
			for _, name := range []string{"io.github.acme/weather", "io.github.other/spoof"} {
				for _, v := range []string{"1.0.0", "9.9.9"} {
					if _, err := st.GetVersion(ctx, registry.Key{Name: name, Version: v}); !errors.Is(err, registry.ErrNotFound) {
						t.Errorf("%s@%s stored: %v", name, v, err)
					}
				}
			}
			if es, _ := st.AuditEvents(ctx, 0, 100); len(es) != 0 {
				t.Errorf("refused documents were audited: %d events", len(es))
			}
		})
	}
}

// What is served is re-encoded from the one decoded value: an accepted document with
// escaped keys, odd spacing and free-form publisher metadata is served with exactly the
// official keys, and every reader sees acme's name and the signed package.
func TestPublishServesReencodedDocument(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t).(publishStore)
			srv := newPublishServerOn(t, st, "io.github.acme/")
			body := `{ "$schema" : "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
			  "n\u0061me":"io.github.acme/weather", "description":"Weather", "version":"1.0.0",
			  "packages":[{"registryType":"oci","identifier":"ghcr.io/acme/w:1","transport":{"type":"stdio"},"runtimeArguments":[]}],
			  "_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"Build":{"n":1.50e3}}}}`
			r := post(t, srv.Handler(), "/v0.1/publish", body)
			if r.code != 200 {
				t.Fatalf("%d %s", r.code, r.body)
			}
			g := get(t, srv.Handler(), "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0")
			var resp struct {
				Server map[string]json.RawMessage `json:"server"`
			}
			if err := json.Unmarshal([]byte(g.body), &resp); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range resp.Server {
				keys = append(keys, k)
			}
			sortStrings(keys)
			if strings.Join(keys, ",") != "$schema,_meta,description,name,packages,version" {
				t.Fatalf("served keys %v: %s", keys, g.body)
			}
			if !strings.Contains(g.body, `"name":"io.github.acme/weather"`) || !strings.Contains(g.body, `"n":1500`) ||
				!strings.Contains(g.body, "@"+pubDigest) || strings.Contains(g.body, "runtimeArguments") {
				t.Fatalf("served: %s", g.body)
			}
		})
	}
}
