package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/vetted-dev/vetted/internal/netguard"
)

// outboundConfig is the `outbound:` section of vetted.yaml: the one policy for everything
// Vetted fetches (OCI registries, the OSV mirror, OIDC discovery and JWKS).
//
//	outbound:
//	  allow_hosts: [ghcr.io, "*.pkg.dev", "registry.internal:5000", osv-vulnerabilities.storage.googleapis.com]
//	  allow_networks: [10.20.0.0/16]   # private networks Vetted may reach (default: none)
//	  timeout: 2m
//	  max_response_bytes: 33554432
//	  ca_file: /etc/vetted/private-ca.pem   # extra trusted CAs (private registries, IdP)
//
// An allow_hosts entry may carry a port; without one it allows port 443 and the ports of
// the host's publish.insecure_registries, nothing else (allowing a network never widens
// the ports). Plain HTTP is spoken only to publish.insecure_registries. The URLs the
// configuration names (issuers, their JWKS, ui.oidc.issuer, publish.webhook,
// publish.rescan.sync_from) are allowed at their own host, port and scheme. A failure to
// reach an allowed destination reads "registry unreachable" to whoever asked; the details
// are in the server log.
type outboundConfig struct {
	AllowHosts       []string `json:"allow_hosts,omitempty"`
	AllowNetworks    []string `json:"allow_networks,omitempty"`
	Timeout          string   `json:"timeout,omitempty"`
	MaxResponseBytes int64    `json:"max_response_bytes,omitempty"`
	CAFile           string   `json:"ca_file,omitempty"`
}

// guard builds the outbound guard; extra are options the caller adds (e.g. more hosts).
func (c outboundConfig) guard(logger *slog.Logger, extra ...netguard.Option) (*netguard.Guard, error) {
	opts := []netguard.Option{netguard.AllowHosts(c.AllowHosts...)}
	for _, n := range c.AllowNetworks {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("outbound.allow_networks: %w", err)
		}
		opts = append(opts, netguard.AllowNetworks(p))
	}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil {
			return nil, fmt.Errorf("outbound.timeout: %w", err)
		}
		opts = append(opts, netguard.Timeout(d))
	}
	if c.MaxResponseBytes != 0 {
		opts = append(opts, netguard.MaxResponseBytes(c.MaxResponseBytes))
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("outbound.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("outbound.ca_file %s: no PEM certificate in it", c.CAFile)
		}
		opts = append(opts, netguard.WithTLSConfig(&tls.Config{RootCAs: pool}))
	}
	if logger != nil {
		opts = append(opts, netguard.WithLogger(slog.New(fixHandler{logger.Handler()})))
	}
	g, err := netguard.New(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	return g, nil
}

// outboundFix says how to allow a destination the outbound guard refused. The server log
// and the CLI say it; a remote caller never learns more than that the fetch failed.
const outboundFix = "to allow it, add the host to outbound.allow_hosts, or its network (e.g. 127.0.0.0/8 for loopback, 10.0.0.0/8) to outbound.allow_networks, in vetted.yaml (--config or VETTED_CONFIG)"

// fixHandler adds outboundFix as attribute "fix" to the guard's warnings (its refusals).
type fixHandler struct{ slog.Handler }

func (h fixHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		r = r.Clone()
		r.AddAttrs(slog.String("fix", outboundFix))
	}
	return h.Handler.Handle(ctx, r)
}

func (h fixHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return fixHandler{h.Handler.WithAttrs(as)}
}
func (h fixHandler) WithGroup(n string) slog.Handler { return fixHandler{h.Handler.WithGroup(n)} }

// withOutboundFix adds outboundFix to an error of a command that the outbound guard caused,
// keeping its exit code.
func withOutboundFix(err error) error {
	var be *netguard.BlockedError
	if err == nil || !errors.As(err, &be) {
		return err
	}
	return &fixedError{err}
}

type fixedError struct{ err error }

func (e *fixedError) Error() string { return e.err.Error() + "; " + outboundFix }
func (e *fixedError) Unwrap() error { return e.err }
