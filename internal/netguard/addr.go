package netguard

import (
	"net/netip"
)

// special is one class of address that is refused unless allowed.
type special struct {
	prefix netip.Prefix
	reason string
}

// metadataAddrs are the cloud instance metadata endpoints. They are refused even when a
// network that contains them is allowed, unless the address itself is allowed.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, …
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

var specials = func() []special {
	list := []struct{ cidr, reason string }{
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"64:ff9b:1::/48", "local-use NAT64"},
		{"100::/64", "discard-only"},
		{"2001::/23", "IETF protocol assignment"},
		{"2001:db8::/32", "documentation"},
		{"fc00::/7", "private (unique local)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]special, len(list))
	for i, s := range list {
		out[i] = special{netip.MustParsePrefix(s.cidr), s.reason}
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4    = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
	ipv4Bcast = netip.MustParseAddr("255.255.255.255")
)

// embeddedIPv4 returns the IPv4 address that an IPv6 address carries (IPv4-mapped,
// IPv4-compatible, NAT64, 6to4), so that the IPv4 rules apply to it too.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if a.Is4In6() {
		return a.Unmap(), true
	}
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo4.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case teredo.Contains(a):
		// Teredo carries the client's IPv4 address inverted in the last 32 bits.
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	// IPv4-compatible (deprecated) ::a.b.c.d, excluding :: and ::1.
	var zero [12]byte
	if [12]byte(b[:12]) == zero && (b[12]|b[13]) != 0 {
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	}
	return netip.Addr{}, false
}

// classify returns why a is a special-purpose address, or "" when it is a public unicast
// address. Metadata endpoints are reported as "cloud metadata endpoint".
func classify(a netip.Addr) string {
	a = a.WithZone("")
	for _, m := range metadataAddrs {
		if a == m || (a.Is4In6() && a.Unmap() == m) {
			return "cloud metadata endpoint"
		}
	}
	if v4, ok := embeddedIPv4(a); ok {
		if r := classify(v4); r != "" {
			return r + " (embedded in " + a.String() + ")"
		}
		if a.Is4In6() {
			return ""
		}
	}
	if a == ipv4Bcast {
		return "broadcast"
	}
	for _, s := range specials {
		if s.prefix.Contains(a) {
			return s.reason
		}
	}
	if !a.IsValid() {
		return "invalid"
	}
	return ""
}

// isMetadata reports whether a is (or embeds) a cloud metadata endpoint.
func isMetadata(a netip.Addr) bool {
	a = a.WithZone("")
	if v4, ok := embeddedIPv4(a); ok {
		a = v4
	}
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}
