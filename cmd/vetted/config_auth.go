package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/internal/netguard"
)

// authConfig is the `auth:` section of vetted.yaml. Unknown keys are errors: a typo in
// security configuration must not silently weaken it.
//
//	auth:
//	  resource: https://vetted.example.com     # this registry's URL (RFC 9728 resource)
//	  audience: https://vetted.example.com     # "aud" tokens must carry (default: resource)
//	  anonymous_read: true                     # read API without a token (default true)
//	  clock_skew: 60s                          # tolerance on exp/nbf/iat (default 60s)
//	  issuers:
//	    - issuer: https://token.actions.githubusercontent.com
//	    - issuer: https://login.example.com
//	      roles_claim: groups
//	      role_mapping: {sec-team: reviewer, registry-admins: admin, staff: reader}
//	      audiences: [https://vetted.example.com, vetted]   # default [audience]; docs/auth.md
//	  key_cache: {max_age: 10m, min_refresh: 5s}   # issuers' fetched signing keys
//	  publishers:
//	    - namespace: io.github.acme/*
//	      issuer: https://token.actions.githubusercontent.com
//	      claims: {repository_owner: acme}
//	    - namespace: io.github.acme/weather
//	      issuer: https://token.actions.githubusercontent.com
//	      claims:
//	        repository: acme/weather
//	        workflow_ref: acme/weather/.github/workflows/release.yml@refs/heads/main
//	        runner_environment: github-hosted
//	  self_issuer: {disabled: false, issuer: https://vetted.example.com}
//	  rate_limits:
//	    per_identity: {rate: 50, burst: 100}
//	    per_address: {rate: 300, burst: 600}   # rate 0 turns a limit off
//	  body_limits:                           # default 1 MiB; publish 256 KiB
//	    default: 1048576
//	    routes: [{method: POST, path_prefix: /v0.1/publish, bytes: 262144}]
//	  trusted_proxies: [10.0.0.0/8]
//	  metrics: read                          # who reads /metrics: read (as the API), public, review, admin
//	  max_token_lifetime: 24h                # exp-iat (or exp-now) of any token, every issuer
type authConfig struct {
	Resource       string               `json:"resource,omitempty"`
	Audience       string               `json:"audience,omitempty"`
	AnonymousRead  *bool                `json:"anonymous_read,omitempty"`
	ClockSkew      string               `json:"clock_skew,omitempty"`
	Issuers        []auth.IssuerConfig  `json:"issuers,omitempty"`
	Publishers     []auth.PublisherRule `json:"publishers,omitempty"`
	SelfIssuer     selfIssuerConfig     `json:"self_issuer"`
	RateLimits     rateLimitsConfig     `json:"rate_limits"`
	BodyLimits     bodyLimitsConfig     `json:"body_limits"`
	TrustedProxies []string             `json:"trusted_proxies,omitempty"`
	KeyCache       keyCacheConfig       `json:"key_cache"`
	Metrics        string               `json:"metrics,omitempty"`
	MaxTokenTTL    string               `json:"max_token_lifetime,omitempty"`
	TokenExchange  tokenExchangeConfig  `json:"token_exchange"` // serve_exchange.go
}

// keyCacheConfig bounds how long the issuers' fetched signing keys are trusted (max_age,
// default 10m: a key an issuer drops stops verifying within it) and how often they may be
// fetched (min_refresh, default 5s).
type keyCacheConfig struct {
	MaxAge     string `json:"max_age,omitempty"`
	MinRefresh string `json:"min_refresh,omitempty"`
}

func (c keyCacheConfig) option() (auth.VerifierOption, error) {
	if c.MaxAge == "" && c.MinRefresh == "" {
		return nil, nil
	}
	maxAge, minRefresh := auth.DefaultJWKSMaxAge, auth.DefaultJWKSMinRefresh
	for _, f := range []struct {
		key string
		raw string
		d   *time.Duration
	}{{"max_age", c.MaxAge, &maxAge}, {"min_refresh", c.MinRefresh, &minRefresh}} {
		if f.raw == "" {
			continue
		}
		d, err := time.ParseDuration(f.raw)
		if err != nil {
			return nil, fmt.Errorf("auth.key_cache.%s: %w", f.key, err)
		}
		*f.d = d
	}
	if maxAge > 24*time.Hour {
		return nil, fmt.Errorf("auth.key_cache.max_age %v: at most 24h (a dropped key stays trusted that long)", maxAge)
	}
	if minRefresh <= 0 || maxAge < 2*minRefresh {
		return nil, fmt.Errorf("auth.key_cache: want min_refresh (%v) > 0 and max_age (%v) at least twice min_refresh", minRefresh, maxAge)
	}
	return auth.WithJWKSRefresh(minRefresh, maxAge), nil
}

// issuerGuardOptions are what the outbound guard needs to reach the issuers: the host and
// port of each issuer and jwks_url, over its own scheme (an http one exists only with
// allow_http_loopback, on a loopback address, which is then allowed too).
func issuerGuardOptions(issuers []auth.IssuerConfig) []netguard.Option {
	var urls []string
	var nets []netip.Prefix
	for _, ic := range issuers {
		for _, raw := range []string{ic.Issuer, ic.JWKSURL} {
			u, err := url.Parse(raw)
			if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
				continue // refused with its reason by auth.NewVerifier
			}
			urls = append(urls, raw)
			if ic.AllowHTTPLoopback && u.Scheme == "http" && auth.IsLoopbackHost(u.Hostname()) {
				if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
					nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
				} else { // localhost
					nets = append(nets, netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"))
				}
			}
		}
	}
	var opts []netguard.Option
	if len(urls) > 0 {
		opts = append(opts, netguard.AllowURLs(urls...))
	}
	if len(nets) > 0 {
		opts = append(opts, netguard.AllowNetworks(nets...))
	}
	return opts
}

// metricsAccess is who may read /metrics: "" or "read" (whoever may read the API, so
// anonymous only while anonymous_read is on), "public", "review" or "admin".
func (c authConfig) metricsAccess() (perm auth.Permission, public bool, err error) {
	switch c.Metrics {
	case "", "read":
		return auth.PermRead, false, nil
	case "public":
		return "", true, nil
	case "review":
		return auth.PermReview, false, nil
	case "admin":
		return auth.PermAdmin, false, nil
	}
	return "", false, fmt.Errorf("auth.metrics %q: want read (the default: as the read API), public, review or admin", c.Metrics)
}

type selfIssuerConfig struct {
	Disabled bool   `json:"disabled,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
}

type rateLimitsConfig struct {
	PerIdentity *auth.RateLimit `json:"per_identity,omitempty"`
	PerAddress  *auth.RateLimit `json:"per_address,omitempty"`
}

type bodyLimitsConfig struct {
	Default int64             `json:"default,omitempty"`
	Routes  []auth.RouteLimit `json:"routes,omitempty"`
}

// resource is the registry's canonical URL: configured, or def (derived from the listener).
func (c authConfig) resource(def string) string {
	if c.Resource != "" {
		return c.Resource
	}
	return def
}

func (c authConfig) audience(resource string) string {
	if c.Audience != "" {
		return c.Audience
	}
	return resource
}

func (c authConfig) selfIssuer(resource string) string {
	if c.SelfIssuer.Issuer != "" {
		return c.SelfIssuer.Issuer
	}
	return resource
}

// buildAuth assembles the verifier and the HTTP auth service from the configuration: the
// embedded issuer (key in dataDir) unless disabled, the configured issuers fetched through
// the outbound guard, publisher rules, limits and the audit logger.
func buildAuth(c authConfig, dataDir, resource string, guard *netguard.Guard, audit *slog.Logger) (*auth.Service, error) {
	if u, err := url.Parse(resource); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("auth.resource %q: want this registry's http(s) URL", resource)
	}
	var vopts []auth.VerifierOption
	var sopts []auth.ServiceOption
	if !c.SelfIssuer.Disabled {
		si, created, err := auth.LoadOrCreateSelfIssuer(dataDir, c.selfIssuer(resource))
		if err != nil {
			return nil, err
		}
		if created {
			audit.Info("created the embedded issuer key", slog.String("path", dataDir+"/"+auth.KeyFile))
		}
		vopts = append(vopts, si.VerifierOption())
		sopts = append(sopts, auth.WithSelfIssuer(si))
	}
	var urls []string
	for _, ic := range c.Issuers {
		vopts = append(vopts, auth.WithIssuer(ic))
		for _, raw := range []string{ic.Issuer, ic.JWKSURL} {
			if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
				urls = append(urls, raw)
			}
		}
	}
	if len(urls) > 0 {
		g, err := guard.WithURLs(urls...)
		if err != nil {
			return nil, fmt.Errorf("auth.issuers: %w", err)
		}
		vopts = append(vopts, auth.WithHTTPClient(g.Client()))
	}
	vopts = append(vopts, auth.WithPublisherRules(c.Publishers...), auth.WithVerifierLogger(audit))
	if o, err := c.KeyCache.option(); err != nil {
		return nil, err
	} else if o != nil {
		vopts = append(vopts, o)
	}
	if c.ClockSkew != "" {
		d, err := time.ParseDuration(c.ClockSkew)
		if err != nil {
			return nil, fmt.Errorf("auth.clock_skew: %w", err)
		}
		vopts = append(vopts, auth.WithClockSkew(d))
	}
	if c.MaxTokenTTL != "" {
		d, err := time.ParseDuration(c.MaxTokenTTL)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("auth.max_token_lifetime %q: want a positive duration such as 24h", c.MaxTokenTTL)
		}
		vopts = append(vopts, auth.WithMaxTokenLifetime(d))
	}
	v, err := auth.NewVerifier(c.audience(resource), vopts...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	more, err := c.serviceOptions(audit)
	if err != nil {
		return nil, err
	}
	sopts = append(sopts, more...)
	svc, err := auth.NewService(v, resource, sopts...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return svc, nil
}

// serviceOptions are the request-side options: anonymous reads, rate and body limits,
// trusted proxies.
func (c authConfig) serviceOptions(audit *slog.Logger) ([]auth.ServiceOption, error) {
	var sopts []auth.ServiceOption
	if c.AnonymousRead != nil {
		sopts = append(sopts, auth.WithAnonymousRead(*c.AnonymousRead))
	}
	perID, perAddr := auth.DefaultPerIdentity, auth.DefaultPerAddress
	if c.RateLimits.PerIdentity != nil {
		perID = *c.RateLimits.PerIdentity
	}
	if c.RateLimits.PerAddress != nil {
		perAddr = *c.RateLimits.PerAddress
	}
	sopts = append(sopts, auth.WithRateLimits(perID, perAddr), auth.WithAuditLogger(audit),
		auth.WithRateLimitExempt("/healthz", "/readyz"))
	def, routes := c.BodyLimits.Default, c.BodyLimits.Routes
	if def == 0 {
		def = auth.DefaultBodyLimit
	}
	if routes == nil {
		// A publish is a server.json (at most registry.MaxServerJSON, checked by the
		// handler) or an envelope with evidence (at most api.MaxPublishBody); refuse more
		// before reading it.
		for _, p := range []string{"/v0.1/publish", "/v0/publish"} {
			routes = append(routes, auth.RouteLimit{Method: "POST", PathPrefix: p, Bytes: api.MaxPublishBody})
		}
	}
	sopts = append(sopts, auth.WithBodyLimits(def, routes...))
	for _, p := range c.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("auth.trusted_proxies: %w", err)
		}
		sopts = append(sopts, auth.WithTrustedProxies(pfx))
	}
	return sopts, nil
}
