package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"direct", "203.0.113.9:5555", "", trusted, "203.0.113.9"},
		{"forwarded header from an untrusted peer is ignored", "203.0.113.9:5555", "198.51.100.1", trusted, "203.0.113.9"},
		{"trusted proxy", "10.1.1.1:5555", "198.51.100.1", trusted, "198.51.100.1"},
		{"spoofed first hop is ignored", "10.1.1.1:5555", "1.2.3.4, 198.51.100.1", trusted, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.1.1:5555", "198.51.100.1, 10.2.2.2", trusted, "198.51.100.1"},
		{"garbage header", "10.1.1.1:5555", "nonsense", trusted, "10.1.1.1"},
		{"IPv6 grouped by /64", "[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped", "[::ffff:203.0.113.9]:1", "", nil, "203.0.113.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientAddr(r, tc.trusted); got != tc.want {
				t.Fatalf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}
