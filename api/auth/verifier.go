package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verification defaults.
const (
	DefaultClockSkew = time.Minute
	// DefaultJWKSMinRefresh is the least time between two fetches of an issuer's keys.
	DefaultJWKSMinRefresh = 5 * time.Second
	// DefaultJWKSMaxAge is how long a fetched key set is trusted: a key the issuer drops
	// stops verifying within it.
	DefaultJWKSMaxAge = 10 * time.Minute
	MaxTokenBytes     = 16 << 10
	// DefaultMaxTokenLifetime bounds how long any token may be valid, whoever issued it:
	// CI and IdP access tokens live minutes to an hour, and the embedded issuer mints at
	// most MaxSelfTokenTTL (the same 24h), so its tokens always pass.
	DefaultMaxTokenLifetime = 24 * time.Hour
)

// AllowedAlgorithms are the only signature algorithms accepted. Never "none", never HMAC.
var AllowedAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// everyAlgorithm is used only to name a refused algorithm in the error.
var everyAlgorithm = []jose.SignatureAlgorithm{
	jose.HS256, jose.HS384, jose.HS512, jose.RS256, jose.RS384, jose.RS512,
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA, "none",
}

// Verifier turns bearer tokens into principals.
type Verifier struct {
	audience   string
	skew       time.Duration
	maxLife    time.Duration
	now        func() time.Time
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	allowHTTP  bool
	logger     *slog.Logger
	sleep      func(context.Context, time.Duration) error

	issuerCfgs []IssuerConfig
	static     map[string][]jose.JSONWebKey
	rules      []PublisherRule

	issuers  map[string]*trustedIssuer
	compiled []compiledRule
}

type trustedIssuer struct {
	cfg  IssuerConfig
	keys keySource
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier) error

// WithIssuer trusts an issuer whose keys are fetched (discovery or JWKSURL).
func WithIssuer(c IssuerConfig) VerifierOption {
	return func(v *Verifier) error { v.issuerCfgs = append(v.issuerCfgs, c); return nil }
}

// WithStaticIssuer trusts an issuer whose keys are given (the embedded issuer).
func WithStaticIssuer(c IssuerConfig, keys ...jose.JSONWebKey) VerifierOption {
	return func(v *Verifier) error {
		if len(usableKeys(keys)) == 0 {
			return fmt.Errorf("static issuer %s: no usable public signing key", c.Issuer)
		}
		v.issuerCfgs = append(v.issuerCfgs, c)
		v.static[c.Issuer] = usableKeys(keys)
		return nil
	}
}

// WithPublisherRules adds rules binding namespaces to token claims.
func WithPublisherRules(rules ...PublisherRule) VerifierOption {
	return func(v *Verifier) error { v.rules = append(v.rules, rules...); return nil }
}

// WithHTTPClient sets the client used for discovery and JWKS; pass the netguard one.
func WithHTTPClient(c *http.Client) VerifierOption {
	return func(v *Verifier) error {
		if c == nil {
			return errors.New("nil HTTP client")
		}
		v.client = c
		return nil
	}
}

// WithClock injects the time source.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) error { v.now = now; return nil }
}

// WithClockSkew sets the tolerance on exp, nbf and iat (default one minute, at most five).
func WithClockSkew(d time.Duration) VerifierOption {
	return func(v *Verifier) error {
		if d < 0 || d > 5*time.Minute {
			return fmt.Errorf("clock skew %v: want between 0 and 5m", d)
		}
		v.skew = d
		return nil
	}
}

// WithMaxTokenLifetime bounds the lifetime of every token, from every issuer (default
// DefaultMaxTokenLifetime): a token whose exp lies more than d after its iat, or more than d
// from now, is refused with ReasonLifetime, so a leaked long-lived token is not good for
// years.
func WithMaxTokenLifetime(d time.Duration) VerifierOption {
	return func(v *Verifier) error {
		if d <= 0 {
			return fmt.Errorf("max token lifetime %v: want a positive duration", d)
		}
		v.maxLife = d
		return nil
	}
}

// WithJWKSRefresh sets the least time between two fetches of an issuer's keys (minRefresh,
// default 5s) and how long a fetched key set is trusted (maxAge, default 10m): a key the
// issuer drops stops verifying within maxAge; from maxAge/2 on the set is refreshed in the
// background. A token with a key id the set lacks waits for one fetch (at most minRefresh
// after the previous one).
func WithJWKSRefresh(minRefresh, maxAge time.Duration) VerifierOption {
	return func(v *Verifier) error {
		if minRefresh <= 0 || maxAge < 2*minRefresh {
			return fmt.Errorf("JWKS refresh: want 0 < min refresh (%v) and max age (%v) at least twice that", minRefresh, maxAge)
		}
		v.minRefresh, v.maxAge = minRefresh, maxAge
		return nil
	}
}

// AllowHTTPIssuersUnsafe accepts issuers (and JWKS URLs) served over plain HTTP.
func AllowHTTPIssuersUnsafe() VerifierOption {
	return func(v *Verifier) error { v.allowHTTP = true; return nil }
}

// WithVerifierLogger sets the logger (default: discard).
func WithVerifierLogger(l *slog.Logger) VerifierOption {
	return func(v *Verifier) error {
		if l == nil {
			return errors.New("nil logger")
		}
		v.logger = l
		return nil
	}
}

// NewVerifier builds a verifier for tokens whose "aud" contains audience.
func NewVerifier(audience string, opts ...VerifierOption) (*Verifier, error) {
	v := &Verifier{
		audience:   audience,
		skew:       DefaultClockSkew,
		maxLife:    DefaultMaxTokenLifetime,
		now:        time.Now,
		client:     &http.Client{Timeout: 30 * time.Second},
		minRefresh: DefaultJWKSMinRefresh,
		maxAge:     DefaultJWKSMaxAge,
		logger:     slog.New(slog.DiscardHandler),
		sleep:      sleepCtx,
		static:     map[string][]jose.JSONWebKey{},
		issuers:    map[string]*trustedIssuer{},
	}
	for _, o := range opts {
		if err := o(v); err != nil {
			return nil, err
		}
	}
	if audience == "" {
		return nil, errors.New("verifier: the registry's audience is required")
	}
	for _, c := range v.issuerCfgs {
		if err := validateIssuerConfig(c); err != nil {
			return nil, err
		}
		if _, dup := v.issuers[c.Issuer]; dup {
			return nil, fmt.Errorf("issuer %s configured twice", c.Issuer)
		}
		ti := &trustedIssuer{cfg: c}
		if keys, ok := v.static[c.Issuer]; ok {
			ti.keys = staticKeys{set: keys}
		} else {
			for _, raw := range []string{c.Issuer, c.JWKSURL} {
				if raw == "" {
					continue
				}
				if err := checkIssuerURL(raw, v.allowHTTP || c.AllowHTTPLoopback, v.allowHTTP); err != nil {
					return nil, fmt.Errorf("issuer %s: %w", c.Issuer, err)
				}
			}
			ti.keys = &remoteKeys{issuer: c.Issuer, jwksURL: c.JWKSURL, client: v.client, now: v.now, sleep: v.sleep,
				minRefresh: v.minRefresh, maxAge: v.maxAge, logger: v.logger}
		}
		v.issuers[c.Issuer] = ti
	}
	for _, r := range v.rules {
		cr, err := compileRule(r)
		if err != nil {
			return nil, err
		}
		if _, ok := v.issuers[cr.issuer]; !ok {
			return nil, fmt.Errorf("publisher rule for %s: issuer %s is not configured", r.Namespace, cr.issuer)
		}
		v.compiled = append(v.compiled, cr)
	}
	return v, nil
}

// Audience is the audience tokens must carry.
func (v *Verifier) Audience() string { return v.audience }

// Issuers lists the trusted issuers, in configuration order.
func (v *Verifier) Issuers() []string {
	out := make([]string, 0, len(v.issuerCfgs))
	for _, c := range v.issuerCfgs {
		out = append(out, c.Issuer)
	}
	return out
}

// FlushKeys forgets every fetched key set, so that the next token of each issuer fetches
// its keys at once. It returns the issuers whose keys were flushed (the embedded issuer's
// keys are fixed and stay).
func (v *Verifier) FlushKeys() []string {
	var out []string
	for _, c := range v.issuerCfgs {
		if rk, ok := v.issuers[c.Issuer].keys.(*remoteKeys); ok {
			rk.flush()
			out = append(out, c.Issuer)
		}
	}
	v.logger.Info("issuer key caches flushed", slog.Any("issuers", out))
	return out
}

// checkIssuerURL accepts an https URL; an http one only when http is allowed: for any host
// when anyHost (AllowHTTPIssuersUnsafe), else only for a loopback host (allow_http_loopback).
func checkIssuerURL(raw string, http, anyHost bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q must be an https URL", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("%q must be an https URL", raw)
	case !http:
		return fmt.Errorf("%q must be an https URL (allow_http_loopback admits http://127.0.0.1 for local testing)", raw)
	case anyHost || IsLoopbackHost(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: allow_http_loopback admits plain http only on a loopback address (127.0.0.0/8, ::1, localhost), not %s", raw, u.Hostname())
}

// quoteAny renders the accepted audiences: "a", or one of ["a" "b"].
func quoteAny(auds jwt.Audience) string {
	if len(auds) == 1 {
		return strconv.Quote(auds[0])
	}
	return fmt.Sprintf("any of %q", []string(auds))
}

// IsLoopbackHost reports whether host (no port) is "localhost" or a literal loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Verify checks a bearer token and returns its principal, or an *AuthnError.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, authnErr(ReasonMalformed, "empty token", nil)
	}
	if len(raw) > MaxTokenBytes {
		return nil, authnErr(ReasonMalformed, fmt.Sprintf("token longer than %d bytes", MaxTokenBytes), nil)
	}
	tok, err := jwt.ParseSigned(raw, AllowedAlgorithms)
	if err != nil {
		if t, err2 := jwt.ParseSigned(raw, everyAlgorithm); err2 == nil && len(t.Headers) == 1 {
			return nil, authnErr(ReasonAlgorithm, fmt.Sprintf("%q (allowed: RS256, ES256, EdDSA)", t.Headers[0].Algorithm), err)
		}
		return nil, authnErr(ReasonMalformed, "not a compact JWS", err)
	}
	if len(tok.Headers) != 1 {
		return nil, authnErr(ReasonMalformed, "want exactly one signature", nil)
	}
	hdr := tok.Headers[0]
	if !slices.Contains(AllowedAlgorithms, jose.SignatureAlgorithm(hdr.Algorithm)) {
		return nil, authnErr(ReasonAlgorithm, fmt.Sprintf("%q", hdr.Algorithm), nil)
	}
	// The issuer is read before verification only to pick the keys; it is checked again,
	// exactly, after the signature.
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, authnErr(ReasonMalformed, "claims are not a JSON object", err)
	}
	iss, ok := v.issuers[unverified.Issuer]
	if !ok {
		return nil, authnErr(ReasonIssuer, fmt.Sprintf("%q is not a configured issuer; this registry expects issuer %s and audience %q", unverified.Issuer, v.issuerList(), v.audience), nil)
	}
	keys, err := iss.keys.keys(ctx, hdr.KeyID)
	if err != nil {
		return nil, err
	}
	var (
		std      jwt.Claims
		claims   map[string]any
		verified bool
		lastErr  error
	)
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue
		}
		std, claims = jwt.Claims{}, nil
		if err := tok.Claims(k.Key, &std, &claims); err != nil {
			lastErr = err
			continue
		}
		verified = true
		break
	}
	if !verified {
		return nil, authnErr(ReasonSignature, "no key of "+iss.cfg.Issuer+" verifies the token", lastErr)
	}
	audiences := jwt.Audience{v.audience}
	if len(iss.cfg.Audiences) > 0 {
		audiences = iss.cfg.Audiences
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      iss.cfg.Issuer,
		AnyAudience: audiences,
		Time:        v.now(),
	}, v.skew)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, authnErr(ReasonIssuer, "issuer changed between parse and verification", err)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, authnErr(ReasonAudience, fmt.Sprintf("the token's audience %q does not contain %s, the audience this registry expects (from issuer %q)", []string(std.Audience), quoteAny(audiences), iss.cfg.Issuer), err)
	case errors.Is(err, jwt.ErrExpired):
		return nil, authnErr(ReasonExpired, "expired at "+std.Expiry.Time().UTC().Format(time.RFC3339), err)
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, authnErr(ReasonNotYetValid, "valid from "+std.NotBefore.Time().UTC().Format(time.RFC3339), err)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, authnErr(ReasonIssuedInFuture, "issued at "+std.IssuedAt.Time().UTC().Format(time.RFC3339), err)
	default:
		return nil, authnErr(ReasonMalformed, "claims", err)
	}
	if std.Expiry == nil {
		return nil, authnErr(ReasonNoExpiry, "", nil)
	}
	exp := std.Expiry.Time()
	if left := exp.Sub(v.now()); left > v.maxLife+v.skew {
		return nil, authnErr(ReasonLifetime, fmt.Sprintf("valid for another %v, more than the %v this registry accepts", left.Round(time.Second), v.maxLife), nil)
	}
	if std.IssuedAt != nil {
		if life := exp.Sub(std.IssuedAt.Time()); life > v.maxLife+v.skew {
			return nil, authnErr(ReasonLifetime, fmt.Sprintf("issued for %v, more than the %v this registry accepts", life.Round(time.Second), v.maxLife), nil)
		}
	}
	if std.Subject == "" {
		return nil, authnErr(ReasonNoSubject, "", nil)
	}
	return mapClaims(iss.cfg, v.compiled, std.Subject, std.Expiry.Time(), claims), nil
}

// issuerList names the configured issuers for error messages: `"a"` or `"a" or "b"`, in
// sorted order, at most five.
func (v *Verifier) issuerList() string {
	var names []string
	for n := range v.issuers {
		names = append(names, strconv.Quote(n))
	}
	sort.Strings(names)
	if len(names) > 5 {
		names = append(names[:5], "…")
	}
	if len(names) == 0 {
		return "(none configured)"
	}
	return strings.Join(names, " or ")
}
