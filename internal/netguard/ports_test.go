package netguard

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Allowing a network (127.0.0.0/8) and a host no longer allows every port of it: an entry
// without a port allows 443 and the ports of the host's insecure registries; plain HTTP
// only to those.
func TestPortsAndPlainHTTP(t *testing.T) {
	_, hits, port := server(t, ok)
	loop := AllowNetworks(netip.MustParsePrefix("127.0.0.0/8"))
	tests := []struct {
		name   string
		opts   []Option
		url    string
		reason string // "" means the fetch succeeds
	}{
		{"host without port: other port refused (https)", []Option{AllowHosts("127.0.0.1"), loop}, "https://127.0.0.1:" + port + "/", "port " + port + " not on the allowlist"},
		{"host without port: other port refused (http)", []Option{AllowHosts("127.0.0.1"), loop}, "http://127.0.0.1:" + port + "/", "port " + port + " not on the allowlist"},
		{"host without port: port 80 refused", []Option{AllowHosts("127.0.0.1"), loop}, "http://127.0.0.1/", "port 80 not on the allowlist"},
		{"wildcard without port", []Option{AllowHosts("*.test"), loop, WithResolver(newResolver(map[string][]string{"a.test": {"127.0.0.1"}}))}, "http://a.test:" + port + "/", "port " + port + " not on the allowlist"},
		{"port allowed, plain HTTP not listed", []Option{AllowHosts("127.0.0.1:" + port), loop}, "http://127.0.0.1:" + port + "/", "plain HTTP to port " + port},
		{"insecure registry on another port", []Option{AllowHosts("127.0.0.1"), AllowPlainHTTP("127.0.0.1:1"), loop}, "http://127.0.0.1:" + port + "/", "port " + port + " not on the allowlist"},
		{"insecure registry alone does not allow the host", []Option{AllowPlainHTTP("127.0.0.1:" + port), loop}, "http://127.0.0.1:" + port + "/", "host not on the allowlist"},
		{"any host: only 443", []Option{AllowAnyHostUnsafe(), loop}, "https://127.0.0.1:" + port + "/", "port " + port + " not on the allowlist"},
		{"any host: no plain HTTP on 443", []Option{AllowAnyHostUnsafe(), loop}, "http://127.0.0.1:443/", "plain HTTP to port 443"},
		{"host without port plus its insecure registry", []Option{AllowHosts("127.0.0.1"), AllowPlainHTTP("127.0.0.1:" + port), loop}, "http://127.0.0.1:" + port + "/", ""},
		{"operator-named URL", []Option{AllowURLs("http://127.0.0.1:" + port + "/hook"), loop}, "http://127.0.0.1:" + port + "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := New(tc.opts...)
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
			// The dialer refuses the port too, whoever calls it.
			if _, err := g.DialContext(t.Context(), "tcp", "127.0.0.1:"+port); tc.reason != "" && strings.HasPrefix(tc.reason, "port") {
				wantBlocked(t, err, "not on the allowlist")
			}
		})
	}
	for _, bad := range []string{"*.example.com:5000", "127.0.0.1:x"} {
		if _, err := New(AllowPlainHTTP(bad)); err == nil {
			t.Errorf("AllowPlainHTTP(%q) accepted", bad)
		}
	}
	if _, err := New(AllowURLs("ftp://x.test/")); err == nil {
		t.Error("AllowURLs accepted an ftp URL")
	}
}

// A closed port, a port that answers something other than HTTP, one that hangs, and one
// whose TLS handshake fails all read the same to the caller: no port-scan oracle. The
// details are in the log.
func TestUnreachableIsUniform(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()

	var logs bytes.Buffer
	var mu sync.Mutex
	newGuard := func(timeout time.Duration) *Guard {
		g, err := New(AllowHosts("127.0.0.1:"+port), AllowPlainHTTP("127.0.0.1:"+port),
			AllowNetworks(netip.MustParsePrefix("127.0.0.1/32")), Timeout(timeout), DialTimeout(timeout),
			WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	// Generous for the cases that fail by themselves (a loaded machine is slow); short for
	// the one that hangs.
	g, quick := newGuard(10*time.Second), newGuard(300*time.Millisecond)

	// serveRaw listens on the same port and handles every connection with h.
	serveRaw := func(t *testing.T, h func(net.Conn)) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go h(c)
			}
		}()
		t.Cleanup(func() { l.Close(); <-done })
	}
	cases := []struct {
		name  string
		quick bool // the peer hangs: use the guard with the short deadline
		setup func(t *testing.T)
		log   string // what the log must say instead (alternatives separated by |)
	}{
		{"closed port", false, func(*testing.T) {}, "connection refused"},
		{"closes at once (EOF)", false, func(t *testing.T) { serveRaw(t, func(c net.Conn) { c.Close() }) }, "EOF|connection reset|closed"},
		{"answers non-HTTP", false, func(t *testing.T) {
			serveRaw(t, func(c net.Conn) {
				c.Write([]byte("-ERR unknown command\r\n"))
				time.Sleep(50 * time.Millisecond)
				c.Close()
			})
		}, "error"},
		{"hangs", true, func(t *testing.T) {
			serveRaw(t, func(c net.Conn) { time.Sleep(time.Second); c.Close() })
		}, "error"},
		{"TLS handshake fails", false, func(t *testing.T) {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
			srv.Listener.Close()
			srv.Listener = l
			srv.StartTLS() // a certificate the guard does not trust
			t.Cleanup(srv.Close)
		}, "certificate"},
	}
	texts := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			for _, scheme := range []string{"https", "http"} {
				if tc.name == "TLS handshake fails" && scheme == "http" {
					continue // that is an HTTP answer (400) from a TLS server
				}
				mu.Lock()
				logs.Reset()
				mu.Unlock()
				gg := g
				if tc.quick {
					gg = quick
				}
				_, err := get(t, gg.Client(), scheme+"://127.0.0.1:"+port+"/v2/")
				if !errors.Is(err, ErrUnreachable) {
					t.Fatalf("%s: want ErrUnreachable, got %v", scheme, err)
				}
				texts[scheme+" "+tc.name] = err.Error()
				mu.Lock()
				l := logs.String()
				mu.Unlock()
				if !strings.Contains(l, "outbound request failed") || !containsAny(l, strings.Split(tc.log, "|")) {
					t.Errorf("%s: the log does not carry the details (%q): %s", scheme, tc.log, l)
				}
			}
		})
	}
	for _, scheme := range []string{"https", "http"} {
		want := texts[scheme+" closed port"]
		if !strings.Contains(want, "registry unreachable") {
			t.Fatalf("%s: caller's text %q does not say registry unreachable", scheme, want)
		}
		for k, got := range texts {
			if strings.HasPrefix(k, scheme+" ") && got != want {
				t.Errorf("%s: caller's text differs from a closed port's:\n  %q\n  %q", k, got, want)
			}
		}
	}
	if len(texts) != 9 {
		t.Fatalf("ran %d cases, want 9", len(texts))
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
