package main

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
)

// The auth and outbound sections of vetted.yaml (config_auth.go, config_outbound.go).
func init() {
	addConfigSection("auth")
	addConfigSection("outbound")
}

// servePermission maps the permission an api operation declares to api/auth's.
func servePermission(op *huma.Operation) (perm auth.Permission, public, ok bool) {
	p, ok := api.OperationPermission(op)
	if !ok {
		return "", false, false
	}
	if p == api.PermNone {
		return "", true, true
	}
	return auth.Permission(p), false, true
}

// serveAuth builds the authentication and authorization of `vetted serve` from the auth and
// outbound sections: the api options (HTTP middleware, per-operation permission checks) and
// the auth service, whose well-known documents serveHandler mounts.
func serveAuth(c *serveConfig, resource string, log *slog.Logger) ([]api.Option, *auth.Service, error) {
	var ac authConfig
	var oc outboundConfig
	if c.File != nil {
		if err := c.File.Section("auth", &ac); err != nil {
			return nil, nil, usageError(err)
		}
		if err := c.File.Section("outbound", &oc); err != nil {
			return nil, nil, usageError(err)
		}
	}
	audit := log.With(slog.String("log", "audit"))
	guard, err := oc.guard(log.With(slog.String("log", "outbound")), issuerGuardOptions(ac.Issuers)...)
	if err != nil {
		return nil, nil, usageError(err)
	}
	svc, err := buildAuth(ac, c.DataDir, ac.resource(resource), guard, audit)
	if err != nil {
		return nil, nil, usageError(err)
	}
	perm, public, err := ac.metricsAccess()
	if err != nil {
		return nil, nil, usageError(err)
	}
	opts := []api.Option{
		api.WithHTTPMiddleware(svc.Middleware),
		api.WithHumaMiddleware(auth.HumaMiddleware(servePermission)),
		api.WithIssuerKeysFlush(svc.Verifier().FlushKeys),
	}
	if !public {
		opts = append(opts, api.WithHTTPMiddleware(metricsGate(perm)))
	}
	xo, err := tokenExchange(ac, svc)
	if err != nil {
		return nil, nil, usageError(err)
	}
	opts = append(opts, xo...)
	return opts, svc, nil
}

// metricsGate makes /metrics (a plain handler, outside huma's per-operation permissions)
// require perm. It runs inside svc.Middleware, which has authenticated the caller.
func metricsGate(perm auth.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				if err := auth.RequireAny(r.Context(), perm); err != nil {
					auth.WriteError(w, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// serveHandler puts the well-known documents (RFC 9728 metadata, the embedded issuer's
// JWKS and OpenID configuration) beside the API and adds the security headers.
func serveHandler(svc *auth.Service, apiHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	if svc != nil {
		svc.Register(mux)
	}
	mux.Handle("/", apiHandler)
	return auth.SecurityHeaders(mux)
}

// serveTLS checks the TLS flags: both or neither; a plain-HTTP listener on a non-loopback
// address needs --insecure-http. It returns the TLS configuration (nil: plain HTTP). With a
// nil listener it checks the configured address before anything is bound.
func serveTLS(c *serveConfig, ln net.Listener) (*tls.Config, error) {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, usageErrorf("--tls-cert and --tls-key go together")
	}
	if c.TLSCert == "" {
		if ln == nil {
			// Before listening: refuse what is certainly not loopback without binding it.
			host, _, err := net.SplitHostPort(c.Addr)
			if err != nil || c.InsecureHTTP {
				return nil, nil
			}
			if ip, err := netip.ParseAddr(host); host == "" || (err == nil && !ip.Unmap().IsLoopback()) {
				return nil, usageErrorf("refusing to serve plain HTTP on %s, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http behind a TLS-terminating proxy", c.Addr)
			}
			return nil, nil
		}
		if !isLoopbackAddr(ln.Addr()) && !c.InsecureHTTP {
			return nil, usageErrorf("refusing to serve plain HTTP on %s, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http behind a TLS-terminating proxy", ln.Addr())
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, usageErrorf("--tls-cert/--tls-key: %v", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

func isLoopbackAddr(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// resourceFromListener is the registry's URL when auth.resource is not configured.
func resourceFromListener(ln net.Listener, tlsOn bool) string {
	addr := ln.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("localhost", port)
		}
	}
	if tlsOn {
		return "https://" + addr
	}
	return "http://" + addr
}
