package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// The OIDC login state comes back from the browser: anything but what this registry sealed
// is refused, without panicking.
func FuzzOpenState(f *testing.F) {
	h := &Handler{cfg: Config{CSRFKey: []byte(strings.Repeat("k", 32))}, now: time.Now}
	good := h.sealState(oidcState{State: "s", Verifier: "v", Nonce: "n", Next: "/ui/", Expires: time.Now().Add(time.Hour).Unix()})
	f.Add(good)
	f.Add("")
	f.Add("eyJzIjoicyJ9.AAAA")
	f.Add(good + "x")
	f.Fuzz(func(t *testing.T, v string) {
		st, err := h.openState(v)
		if err == nil && v != good {
			t.Fatalf("accepted a state this registry did not seal: %q -> %+v", v, st)
		}
	})
}

// Tool manifests and lint findings come from publishers: the diff view must render any of
// them without panicking.
func FuzzToolDiff(f *testing.F) {
	f.Add([]byte(`{"tools":[{"name":"a","description":"x"}]}`), []byte(`{"tools":[{"name":"a","description":"y"},{"name":"b"}]}`), "/description", "[-x-] {+y+}")
	f.Add([]byte(``), []byte(`{"tools":[]}`), "", "")
	f.Add([]byte(`{"tools":[{"name":"a","inputSchema":{"properties":{"p":[1,2]}}}]}`), []byte(`{"tools":[{"name":"a","inputSchema":{"properties":{"p":[1]}}}]}`), "/inputSchema/properties/p/9", "{+")
	f.Fuzz(func(t *testing.T, oldM, newM []byte, ptr, wd string) {
		d := buildToolDiff(oldM, newM, []registry.ToolFinding{{Tool: "a", Pointer: ptr}})
		if d == nil {
			t.Fatal("nil diff")
		}
		_ = wordDiff(wd)
		_ = excerptAt(newM, ptr)
	})
}

// A provider's OpenID configuration is network input: any document either yields http(s)
// endpoints of the configured issuer or an error, never a panic.
func FuzzParseDiscovery(f *testing.F) {
	const iss = "https://sso.acme.example"
	f.Add([]byte(`{"issuer":"https://sso.acme.example","authorization_endpoint":"https://sso.acme.example/auth","token_endpoint":"https://sso.acme.example/token","scopes_supported":["openid","groups"]}`))
	f.Add([]byte(`{"issuer":"https://sso.acme.example/","authorization_endpoint":"https://a","token_endpoint":"https://t"}`))
	f.Add([]byte(`{"issuer":"https://sso.acme.example","authorization_endpoint":"javascript:alert(1)","token_endpoint":"https://t"}`))
	f.Add([]byte(`{"issuer":"https://sso.acme.example","scopes_supported":"groups"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		ep, err := parseDiscovery(body, iss)
		if err != nil {
			return
		}
		for _, v := range []string{ep.AuthorizationURL, ep.TokenURL} {
			if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
				t.Fatalf("accepted endpoint %q", v)
			}
		}
	})
}
