package main

import (
	"crypto/tls"
	"crypto/x509"
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
		opts = append(opts, netguard.WithLogger(logger))
	}
	g, err := netguard.New(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	return g, nil
}
