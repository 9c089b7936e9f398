package oci

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// schemeGuard refuses plain-HTTP requests except to loopback hosts and registries listed as
// insecure. It wraps the caller's transport so that it also covers token endpoints and
// redirects.
type schemeGuard struct {
	next     http.RoundTripper
	insecure map[string]bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		if req.URL.Scheme != "http" || !g.plainHTTPAllowed(req.URL.Host) {
			return nil, fmt.Errorf("oci: refusing %s request to %s: plain HTTP is allowed only to loopback or listed insecure registries", req.URL.Scheme, req.URL.Host)
		}
	}
	return g.next.RoundTrip(req)
}

func (g *schemeGuard) plainHTTPAllowed(hostport string) bool {
	if g.insecure[hostport] {
		return true
	}
	return isLoopback(hostport)
}

// isLoopback reports whether host[:port] names a loopback address or localhost.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
