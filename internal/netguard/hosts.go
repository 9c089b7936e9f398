package netguard

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the one port a host entry without a port allows.
const DefaultPort = "443"

// hostRule is one allowlist entry: a host pattern, the port it allows ("" means the
// default ports: 443 and the ports of the plain-HTTP entries for the same host) and
// whether plain HTTP may be spoken to it.
type hostRule struct {
	pattern string // lower-case exact name or literal address, or "*.suffix"
	port    string // "" = default ports
	plain   bool   // plain HTTP allowed (only exact host and port)
}

func (r hostRule) matchesHost(h string) bool {
	if suffix, ok := strings.CutPrefix(r.pattern, "*."); ok {
		return strings.HasSuffix(h, "."+suffix)
	}
	return h == r.pattern
}

// splitEntry splits an allowlist entry "host", "host:port", "[v6]:port" or a bare IPv6
// literal into a normalized host pattern and a port ("" when none was given).
func splitEntry(e string) (host, port string, err error) {
	e = strings.TrimSpace(e)
	raw := e
	if h, p, err := net.SplitHostPort(e); err == nil {
		e, port = h, p
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
			return "", "", fmt.Errorf("netguard: invalid port in %q (1-65535)", raw)
		}
	}
	host, err = normalizeHostPattern(e)
	if err != nil {
		return "", "", err
	}
	return host, port, nil
}

func normalizeHostPattern(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(h, ".")
	if h == "" || h == "*" || h == "*." {
		return "", fmt.Errorf("netguard: invalid host pattern %q", h)
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	rest := strings.TrimPrefix(h, "*.")
	if strings.ContainsAny(rest, "*/:@ []") && net.ParseIP(rest) == nil {
		return "", fmt.Errorf("netguard: invalid host pattern %q (a name, optionally \"*.\" before it, optionally \":port\" after it; no path or scheme)", h)
	}
	return h, nil
}

// AllowHosts adds host names that may be fetched from. A name is matched exactly and
// case-insensitively; "*.example.com" matches any name below example.com (not example.com
// itself). Literal IP addresses may be listed too (IPv6 in brackets when a port follows).
//
// An entry may carry a port ("registry.internal:5000"); without one it allows port 443 and
// the ports of the plain-HTTP entries (AllowPlainHTTP) for the same host, nothing else.
// Allowing a host never allows plain HTTP to it: see AllowPlainHTTP.
func AllowHosts(hosts ...string) Option {
	return func(g *Guard) error {
		for _, e := range hosts {
			h, p, err := splitEntry(e)
			if err != nil {
				return err
			}
			g.hosts = append(g.hosts, hostRule{pattern: h, port: p})
		}
		return nil
	}
}

// AllowPlainHTTP lists "host[:port]" endpoints (port 80 when none is given) that may be
// spoken to over plain HTTP, the insecure registries of the configuration. An entry
// widens the ports of an AllowHosts entry for the same host; it does not put a host on
// the allowlist by itself. Wildcards are refused: plain HTTP is allowed one endpoint at a
// time.
func AllowPlainHTTP(hostports ...string) Option {
	return func(g *Guard) error {
		for _, e := range hostports {
			h, p, err := splitEntry(e)
			if err != nil {
				return err
			}
			if strings.HasPrefix(h, "*.") {
				return fmt.Errorf("netguard: plain HTTP entry %q: no wildcards", e)
			}
			if p == "" {
				p = "80"
			}
			g.plain = append(g.plain, hostRule{pattern: h, port: p, plain: true})
		}
		return nil
	}
}

// AllowURLs allows exactly the host and port of each URL, over the URL's own scheme (plain
// HTTP only for an http URL). It is for endpoints the operator wrote down (an issuer, a
// webhook, a mirror), never for input from clients.
func AllowURLs(urls ...string) Option {
	return func(g *Guard) error {
		for _, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil {
				return fmt.Errorf("netguard: %w", err)
			}
			if u.Scheme != "https" && u.Scheme != "http" {
				return fmt.Errorf("netguard: URL %q: only http and https", raw)
			}
			h, err := normalizeHostPattern(u.Hostname())
			if err != nil {
				return err
			}
			if strings.HasPrefix(h, "*.") {
				return fmt.Errorf("netguard: URL %q: no wildcards", raw)
			}
			p := u.Port()
			if p == "" {
				p = defaultPort(u.Scheme)
			}
			g.hosts = append(g.hosts, hostRule{pattern: h, port: p, plain: u.Scheme == "http"})
		}
		return nil
	}
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return DefaultPort
}

func normHost(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// HostAllowed reports whether host (no port) is on the allowlist at some port.
func (g *Guard) HostAllowed(host string) bool {
	if g.anyHost {
		return true
	}
	h := normHost(host)
	if h == "" {
		return false
	}
	for _, r := range g.hosts {
		if r.matchesHost(h) {
			return true
		}
	}
	return false
}

// PortAllowed reports whether host may be connected to at port.
func (g *Guard) PortAllowed(host, port string) bool {
	h := normHost(host)
	if h == "" {
		return false
	}
	if g.anyHost && port == DefaultPort {
		return true
	}
	for _, r := range g.hosts {
		if !r.matchesHost(h) {
			continue
		}
		if r.port == port || (r.port == "" && g.defaultPortOf(h, port)) {
			return true
		}
	}
	return false
}

// defaultPortOf reports whether port is one of the ports a host entry without a port
// allows for h: 443 and the ports of its plain-HTTP entries.
func (g *Guard) defaultPortOf(h, port string) bool {
	if port == DefaultPort {
		return true
	}
	for _, r := range g.plain {
		if r.pattern == h && r.port == port {
			return true
		}
	}
	return false
}

// PlainHTTPAllowed reports whether plain HTTP may be spoken to host at port.
func (g *Guard) PlainHTTPAllowed(host, port string) bool {
	h := normHost(host)
	for _, list := range [][]hostRule{g.plain, g.hosts} {
		for _, r := range list {
			if r.plain && r.pattern == h && r.port == port {
				return true
			}
		}
	}
	return false
}

// checkDest applies the host, port and scheme rules to one destination.
func (g *Guard) checkDest(scheme, host, port string) error {
	if !g.HostAllowed(host) {
		return &BlockedError{Host: host, Reason: "host not on the allowlist"}
	}
	if !g.PortAllowed(host, port) {
		return &BlockedError{Host: host, Reason: "port " + port + " not on the allowlist for this host (entries without a port allow 443 only)"}
	}
	if scheme == "http" && !g.PlainHTTPAllowed(host, port) {
		return &BlockedError{Host: host, Reason: "plain HTTP to port " + port + " (allowed only to listed insecure registries)"}
	}
	return nil
}
