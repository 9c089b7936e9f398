package netguard

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURL: a URL passes only when its host is on the allowlist, at port 443 over
// HTTPS (the entries carry no port and no plain-HTTP endpoint is listed), and a literal
// address passes only when it is not special.
func FuzzCheckURL(f *testing.F) {
	f.Add("https://ghcr.io/v2/")
	f.Add("http://169.254.169.254/latest/meta-data/")
	f.Add("http://[::ffff:127.0.0.1]:80/")
	f.Add("https://ghcr.io.evil.com/")
	f.Add("https://ghcr.io@127.0.0.1/")
	f.Add("http://0x7f.1/")
	f.Add("https://ghcr.io:6379/")
	f.Add("http://ghcr.io:443/")
	f.Add("https://127.0.0.1:443/")
	g, err := New(AllowHosts("ghcr.io", "*.example.com", "8.8.8.8", "127.0.0.1", "169.254.169.254"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if g.CheckURL(u) != nil {
			return
		}
		h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if h != "ghcr.io" && !strings.HasSuffix(h, ".example.com") && h != "8.8.8.8" && h != "127.0.0.1" && h != "169.254.169.254" {
			t.Fatalf("%q passed with host %q", raw, h)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && classify(a) != "" {
			t.Fatalf("%q passed with special address %s", raw, a)
		}
		if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
			t.Fatalf("%q passed with scheme %q port %q", raw, u.Scheme, u.Port())
		}
		if u.User != nil {
			t.Fatalf("%q passed with credentials", raw)
		}
	})
}

// FuzzClassify: an IPv6 address carrying an IPv4 one is never less special than it.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1})
	f.Add([]byte{0x20, 0x02, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{169, 254, 169, 254})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		reason := classify(a)
		if v4, ok := embeddedIPv4(a); ok && classify(v4) != "" && reason == "" {
			t.Fatalf("%s carries special %s but passes", a, v4)
		}
		if isMetadata(a) && reason != "cloud metadata endpoint" && !strings.Contains(reason, "metadata") {
			t.Fatalf("metadata %s classified %q", a, reason)
		}
		g, _ := New(AllowNetworks(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")))
		if isMetadata(a) && g.CheckAddr("h", a) == nil {
			t.Fatalf("metadata %s allowed by a broad network", a)
		}
	})
}
