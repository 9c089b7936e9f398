package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mapResolver is a hand-written resolver seam: names map to fixed addresses; a name may
// answer differently on successive lookups (DNS rebinding).
type mapResolver struct {
	mu    sync.Mutex
	names map[string][][]netip.Addr
	calls map[string]int
}

func newResolver(m map[string][]string) *mapResolver {
	r := &mapResolver{names: map[string][][]netip.Addr{}, calls: map[string]int{}}
	for name, addrs := range m {
		r.add(name, addrs...)
	}
	return r
}

// add appends one answer for name; successive lookups return successive answers, the last
// one repeating.
func (r *mapResolver) add(name string, addrs ...string) {
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	r.names[name] = append(r.names[name], as)
}

func (r *mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	answers, ok := r.names[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := r.calls[host]
	r.calls[host]++
	if i >= len(answers) {
		i = len(answers) - 1
	}
	return answers[i], nil
}

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want string // substring of the reason; "" means allowed
	}{
		{"8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"127.0.0.1", "loopback"},
		{"127.9.9.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fd12:3456::1", "unique local"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"169.254.169.254", "metadata"},
		{"::ffff:169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"64:ff9b::a00:1", "private"},  // NAT64 of 10.0.0.1
		{"2002:7f00:1::1", "loopback"}, // 6to4 of 127.0.0.1
		{"::10.0.0.1", "private"},      // IPv4-compatible
		{"64:ff9b::808:808", ""},       // NAT64 of 8.8.8.8
		{"172.32.0.1", ""},             // just outside 172.16/12
		{"100.128.0.1", ""},            // just outside 100.64/10
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			got := classify(netip.MustParseAddr(tc.addr))
			if tc.want == "" {
				if got != "" {
					t.Fatalf("classify(%s) = %q, want allowed", tc.addr, got)
				}
				return
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("classify(%s) = %q, want it to mention %q", tc.addr, got, tc.want)
			}
		})
	}
}

func TestCheckAddrAllowNetworks(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		addr    string
		reason  string // "" means allowed
	}{
		{"loopback refused by default", nil, "127.0.0.1", "loopback"},
		{"loopback allowed when configured", []string{"127.0.0.0/8"}, "127.0.0.1", ""},
		{"mapped loopback allowed by v4 prefix", []string{"127.0.0.1/32"}, "::ffff:127.0.0.1", ""},
		{"other private stays refused", []string{"127.0.0.0/8"}, "10.0.0.1", "private"},
		{"metadata refused inside allowed link-local", []string{"169.254.0.0/16"}, "169.254.169.254", "metadata"},
		{"metadata refused inside allowed ULA", []string{"fd00::/8"}, "fd00:ec2::254", "metadata"},
		{"metadata allowed when named exactly", []string{"169.254.169.254/32"}, "169.254.169.254", ""},
		{"link-local allowed when configured", []string{"169.254.0.0/16"}, "169.254.1.1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, p := range tc.allowed {
				ps = append(ps, netip.MustParsePrefix(p))
			}
			g, err := New(AllowNetworks(ps...))
			if err != nil {
				t.Fatal(err)
			}
			err = g.CheckAddr("h", netip.MustParseAddr(tc.addr))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			var be *BlockedError
			if !errors.As(err, &be) || !errors.Is(err, ErrBlocked) {
				t.Fatalf("want *BlockedError, got %v", err)
			}
			if !strings.Contains(be.Reason, tc.reason) {
				t.Fatalf("reason %q does not mention %q", be.Reason, tc.reason)
			}
		})
	}
}

func TestHostAllowed(t *testing.T) {
	g, err := New(AllowHosts("ghcr.io", "*.example.com", "Registry.Internal."))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"ghcr.io", true},
		{"GHCR.IO", true},
		{"ghcr.io.", true},
		{"evil-ghcr.io", false},
		{"ghcr.io.evil.com", false},
		{"a.example.com", true},
		{"a.b.example.com", true},
		{"example.com", false},
		{"badexample.com", false},
		{"registry.internal", true},
		{"", false},
	}
	for _, tc := range tests {
		if got := g.HostAllowed(tc.host); got != tc.want {
			t.Errorf("HostAllowed(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
	// Entries may carry a port since entries without one stopped allowing every port.
	for _, bad := range []string{"", "*", "https://ghcr.io", "ghcr.io:0", "ghcr.io:65536", "ghcr.io:https", "ghcr.io:0443", "a/b", "*.*.x", "[::1]x:5"} {
		if _, err := New(AllowHosts(bad)); err == nil {
			t.Errorf("AllowHosts(%q) accepted", bad)
		}
	}
}

// server returns an httptest server on 127.0.0.1 counting the requests it receives.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64, string) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return srv, &n, u.Port()
}

// plainHTTPAt allows hosts at each of ports, over plain HTTP.
func plainHTTPAt(ports []string, hosts ...string) []Option {
	var eps []string
	for _, h := range hosts {
		for _, p := range ports {
			eps = append(eps, net.JoinHostPort(h, p))
		}
	}
	return []Option{AllowHosts(hosts...), AllowPlainHTTP(eps...)}
}

func ok(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func wantBlocked(t *testing.T, err error, reason string) {
	t.Helper()
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("want a *BlockedError mentioning %q, got %v", reason, err)
	}
	if !strings.Contains(be.Error(), reason) {
		t.Fatalf("refusal %q does not mention %q", be.Error(), reason)
	}
}

func TestFetchRefusals(t *testing.T) {
	_, hits, port := server(t, ok)
	res := newResolver(map[string][]string{
		"good.test":     {"127.0.0.1"},
		"internal.test": {"10.0.0.5"},
		"meta.test":     {"169.254.169.254"},
		"meta6.test":    {"fd00:ec2::254"},
		"mixed.test":    {"127.0.0.1", "192.168.0.10"},
		"cgnat.test":    {"100.64.3.4"},
	})
	all := []string{"good.test", "internal.test", "meta.test", "meta6.test", "mixed.test", "cgnat.test", "127.0.0.1", "169.254.169.254"}
	allowAll := plainHTTPAt([]string{port, "80"}, all...)
	tests := []struct {
		name   string
		opts   []Option
		url    string
		reason string // "" means the fetch succeeds
	}{
		{"loopback literal refused", allowAll, "http://127.0.0.1:" + port + "/", "loopback"},
		{"loopback by name refused", allowAll, "http://good.test:" + port + "/", "loopback"},
		{"host not on allowlist", []Option{AllowHosts("other.test:" + port), AllowPlainHTTP("other.test:" + port), AllowNetworks(netip.MustParsePrefix("127.0.0.1/32"))}, "http://good.test:" + port + "/", "host not on the allowlist"},
		{"no allowlist allows nothing", nil, "http://good.test:" + port + "/", "host not on the allowlist"},
		{"name resolving to private", allowAll, "http://internal.test:" + port + "/", "private"},
		{"name resolving to metadata", allowAll, "http://meta.test/latest/meta-data/", "metadata"},
		{"name resolving to IPv6 metadata", allowAll, "http://meta6.test/latest/meta-data/", "metadata"},
		{"metadata literal", append(allowAll, AllowNetworks(netip.MustParsePrefix("169.254.0.0/16"))), "http://169.254.169.254/latest/meta-data/", "metadata"},
		{"one private answer refuses the name", append(allowAll, AllowNetworks(netip.MustParsePrefix("127.0.0.1/32"))), "http://mixed.test:" + port + "/", "private"},
		{"CGNAT refused", allowAll, "http://cgnat.test/", "carrier-grade NAT"},
		{"scheme refused", allowAll, "file:///etc/passwd", "scheme"},
		{"credentials in URL refused", allowAll, "http://u:p@good.test:" + port + "/", "credentials"},
		{"allowed loopback by configuration", []Option{AllowHosts("good.test"), AllowPlainHTTP("good.test:" + port), AllowNetworks(netip.MustParsePrefix("127.0.0.1/32"))}, "http://good.test:" + port + "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(append([]Option{WithResolver(res)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			body, err := get(t, g.Client(), tc.url)
			if tc.reason == "" {
				if err != nil || body != "ok" {
					t.Fatalf("want ok, got %q, %v", body, err)
				}
				return
			}
			wantBlocked(t, err, tc.reason)
			if hits.Load() != before {
				t.Fatal("the refused request reached the server")
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	_, innerHits, innerPort := server(t, ok)
	_, _, port := server(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	res := newResolver(map[string][]string{
		"front.test": {"127.0.0.1"},
		"inner.test": {"10.0.0.9"},
		"other.test": {"127.0.0.1"},
	})
	g, err := New(append(plainHTTPAt([]string{port, innerPort}, "front.test", "inner.test"),
		WithResolver(res), AllowNetworks(netip.MustParsePrefix("127.0.0.1/32")), MaxRedirects(2))...)
	if err != nil {
		t.Fatal(err)
	}
	front := "http://front.test:" + port + "/?to="
	tests := []struct {
		name, to, reason string
	}{
		{"to metadata", "http://169.254.169.254/latest/meta-data/", "host not on the allowlist"},
		{"to loopback literal", "http://127.0.0.1:" + innerPort + "/", "host not on the allowlist"},
		{"to an allowed name resolving to private", "http://inner.test:" + innerPort + "/", "private"},
		{"to a host off the allowlist", "http://other.test:" + innerPort + "/", "host not on the allowlist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []*http.Client{g.Client(), {Transport: g.RoundTripper()}} {
				_, err := get(t, c, front+url.QueryEscape(tc.to))
				wantBlocked(t, err, tc.reason)
			}
			if innerHits.Load() != 0 {
				t.Fatal("a refused redirect reached its target")
			}
		})
	}
	t.Run("too many redirects", func(t *testing.T) {
		loop := front + url.QueryEscape(front+url.QueryEscape(front+url.QueryEscape(front+"x")))
		_, err := get(t, g.Client(), loop)
		if err == nil || !strings.Contains(err.Error(), "more than 2 redirects") {
			t.Fatalf("want a redirect limit error, got %v", err)
		}
	})
}

func TestDNSRebinding(t *testing.T) {
	_, hits, port := server(t, ok)
	res := newResolver(nil)
	res.add("rebind.test", "127.0.0.1")
	res.add("rebind.test", "10.0.0.7")
	g, err := New(WithResolver(res), AllowURLs("http://rebind.test:"+port), AllowNetworks(netip.MustParsePrefix("127.0.0.1/32")))
	if err != nil {
		t.Fatal(err)
	}
	u := "http://rebind.test:" + port + "/"
	if body, err := get(t, g.Client(), u); err != nil || body != "ok" {
		t.Fatalf("first fetch: %q, %v", body, err)
	}
	g.CloseIdleConnections()
	_, err = get(t, g.Client(), u)
	wantBlocked(t, err, "private")
	if hits.Load() != 1 {
		t.Fatalf("server saw %d requests, want 1", hits.Load())
	}
}

func TestLimits(t *testing.T) {
	release := make(chan struct{})
	_, _, port := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "2048")
			w.Write(make([]byte, 2048))
		case "/chunked":
			for range 4 {
				w.Write(make([]byte, 512))
				w.(http.Flusher).Flush()
			}
		case "/exact":
			w.Write(make([]byte, 1024))
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	t.Cleanup(func() { close(release) })
	res := newResolver(map[string][]string{"srv.test": {"127.0.0.1"}})
	g, err := New(WithResolver(res), AllowURLs("http://srv.test:"+port), AllowNetworks(netip.MustParsePrefix("127.0.0.0/8")),
		MaxResponseBytes(1024), Timeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://srv.test:" + port
	for _, p := range []string{"/big", "/chunked"} {
		_, err := get(t, g.Client(), base+p)
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("%s: want ErrResponseTooLarge, got %v", p, err)
		}
	}
	if body, err := get(t, g.Client(), base+"/exact"); err != nil || len(body) != 1024 {
		t.Errorf("/exact: got %d bytes, %v", len(body), err)
	}
	// A server that does not answer in time is unreachable like any other (it could be a
	// port that accepts and says nothing); the caller's own deadline is not involved.
	_, err = get(t, g.Client(), base+"/slow")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("/slow: want ErrUnreachable, got %v", err)
	}
}

func TestDialOnlyTCP(t *testing.T) {
	g, err := New(AllowHosts("x.test"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.DialContext(context.Background(), "udp", "8.8.8.8:53")
	wantBlocked(t, err, "only tcp")
}
