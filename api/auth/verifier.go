package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
	DefaultClockSkew      = time.Minute
	DefaultJWKSMinRefresh = 30 * time.Second
	DefaultJWKSMaxAge     = time.Hour
	MaxTokenBytes         = 16 << 10
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
	now        func() time.Time
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	allowHTTP  bool
	logger     *slog.Logger

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

// WithJWKSRefresh sets how often an unknown key id may trigger a refresh (minRefresh) and
// how long a fetched key set is used before it is fetched again (maxAge).
func WithJWKSRefresh(minRefresh, maxAge time.Duration) VerifierOption {
	return func(v *Verifier) error {
		if minRefresh <= 0 || maxAge < minRefresh {
			return fmt.Errorf("JWKS refresh: want 0 < min (%v) <= max age (%v)", minRefresh, maxAge)
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
		now:        time.Now,
		client:     &http.Client{Timeout: 30 * time.Second},
		minRefresh: DefaultJWKSMinRefresh,
		maxAge:     DefaultJWKSMaxAge,
		logger:     slog.New(slog.DiscardHandler),
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
				u, err := url.Parse(raw)
				if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && v.allowHTTP)) {
					return nil, fmt.Errorf("issuer %s: %q must be an https URL", c.Issuer, raw)
				}
			}
			ti.keys = &remoteKeys{issuer: c.Issuer, jwksURL: c.JWKSURL, client: v.client, now: v.now, minRefresh: v.minRefresh, maxAge: v.maxAge, logger: v.logger}
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
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      iss.cfg.Issuer,
		AnyAudience: jwt.Audience{v.audience},
		Time:        v.now(),
	}, v.skew)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, authnErr(ReasonIssuer, "issuer changed between parse and verification", err)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, authnErr(ReasonAudience, fmt.Sprintf("the token's audience %q does not contain %q, the audience this registry expects (from issuer %q)", []string(std.Audience), v.audience, iss.cfg.Issuer), err)
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
