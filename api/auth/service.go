package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Defaults of the HTTP side.
const (
	DefaultBodyLimit = 1 << 20 // 1 MiB
	// MetadataPath is where RFC 9728 protected resource metadata is served.
	MetadataPath = "/.well-known/oauth-protected-resource"
	// JWKSPath serves the embedded issuer's public keys.
	JWKSPath = "/.well-known/jwks.json"
	// DiscoveryPath serves the embedded issuer's OpenID configuration.
	DiscoveryPath = "/.well-known/openid-configuration"
)

// Default rate limits: generous for people and CI, a wall for floods.
var (
	DefaultPerIdentity = RateLimit{Rate: 50, Burst: 100}
	DefaultPerAddress  = RateLimit{Rate: 300, Burst: 600}
)

// RouteLimit caps request bodies on routes whose method matches (empty: any) and whose
// path starts with PathPrefix. The longest matching prefix wins.
type RouteLimit struct {
	Method     string `json:"method,omitempty"`
	PathPrefix string `json:"path_prefix"`
	Bytes      int64  `json:"bytes"`
}

// Service is the HTTP face of authentication and authorization.
type Service struct {
	verifier       *Verifier
	resource       string
	anonymousRead  bool
	self           *SelfIssuer
	logger         *slog.Logger
	now            func() time.Time
	perIdentity    *keyedLimiter
	perAddress     *keyedLimiter
	trustedProxies []netip.Prefix
	bodyDefault    int64
	bodyRoutes     []RouteLimit
	resourceName   string
	unlimited      map[string]bool // GET/HEAD paths no rate limit applies to

	identityLimit, addressLimit RateLimit
}

// ServiceOption configures a Service.
type ServiceOption func(*Service) error

// WithAnonymousRead sets whether requests without a token may read (default true).
func WithAnonymousRead(on bool) ServiceOption {
	return func(s *Service) error { s.anonymousRead = on; return nil }
}

// WithSelfIssuer serves the embedded issuer's JWKS and discovery document. Trust it in
// the Verifier with its VerifierOption.
func WithSelfIssuer(si *SelfIssuer) ServiceOption {
	return func(s *Service) error { s.self = si; return nil }
}

// SelfIssuer returns the embedded issuer (nil when disabled).
func (s *Service) SelfIssuer() *SelfIssuer { return s.self }

// WithAuditLogger sets the audit logger (default: discard).
func WithAuditLogger(l *slog.Logger) ServiceOption {
	return func(s *Service) error {
		if l == nil {
			return errors.New("nil logger")
		}
		s.logger = l
		return nil
	}
}

// WithRateLimits sets the per-identity and per-client-address limits.
func WithRateLimits(perIdentity, perAddress RateLimit) ServiceOption {
	return func(s *Service) error {
		if perIdentity.Rate < 0 || perAddress.Rate < 0 || perIdentity.Burst < 0 || perAddress.Burst < 0 {
			return errors.New("rate limits must not be negative")
		}
		s.identityLimit, s.addressLimit = perIdentity, perAddress
		return nil
	}
}

// WithTrustedProxies makes X-Forwarded-For count for the client address when the peer is
// in one of these networks.
func WithTrustedProxies(ps ...netip.Prefix) ServiceOption {
	return func(s *Service) error { s.trustedProxies = append(s.trustedProxies, ps...); return nil }
}

// WithBodyLimits sets the default request body limit and per-route limits.
func WithBodyLimits(def int64, routes ...RouteLimit) ServiceOption {
	return func(s *Service) error {
		if def <= 0 {
			return fmt.Errorf("default body limit must be positive, got %d", def)
		}
		for _, r := range routes {
			if r.Bytes <= 0 || !strings.HasPrefix(r.PathPrefix, "/") {
				return fmt.Errorf("body limit %+v: want a path prefix starting with / and a positive size", r)
			}
		}
		s.bodyDefault = def
		s.bodyRoutes = append([]RouteLimit(nil), routes...)
		return nil
	}
}

// WithRateLimitExempt exempts GET and HEAD requests for exactly these paths from both
// rate limits: liveness and readiness probes must not be throttled (and so fail) because
// the API is busy. They are still authenticated like any request.
func WithRateLimitExempt(paths ...string) ServiceOption {
	return func(s *Service) error {
		if s.unlimited == nil {
			s.unlimited = map[string]bool{}
		}
		for _, p := range paths {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("rate limit exemption %q: want a path starting with /", p)
			}
			s.unlimited[p] = true
		}
		return nil
	}
}

// WithServiceClock injects the time source of the rate limiters.
func WithServiceClock(now func() time.Time) ServiceOption {
	return func(s *Service) error { s.now = now; return nil }
}

// NewService builds the HTTP side. resource is this registry's canonical URL (RFC 9728
// "resource"), e.g. "https://vetted.example.com".
func NewService(v *Verifier, resource string, opts ...ServiceOption) (*Service, error) {
	s := &Service{
		verifier:      v,
		resource:      strings.TrimSuffix(resource, "/"),
		anonymousRead: true,
		logger:        slog.New(slog.DiscardHandler),
		now:           time.Now,
		bodyDefault:   DefaultBodyLimit,
		identityLimit: DefaultPerIdentity,
		addressLimit:  DefaultPerAddress,
		resourceName:  "Vetted MCP registry",
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, errors.New("auth service: nil verifier")
	}
	if s.resource == "" || !(strings.HasPrefix(s.resource, "https://") || strings.HasPrefix(s.resource, "http://")) {
		return nil, fmt.Errorf("auth service: resource %q must be this registry's http(s) URL", resource)
	}
	s.perIdentity = newKeyedLimiter(s.identityLimit, s.now)
	s.perAddress = newKeyedLimiter(s.addressLimit, s.now)
	sort.SliceStable(s.bodyRoutes, func(i, j int) bool { return len(s.bodyRoutes[i].PathPrefix) > len(s.bodyRoutes[j].PathPrefix) })
	return s, nil
}

// MetadataURL is the RFC 9728 metadata URL named in WWW-Authenticate challenges.
func (s *Service) MetadataURL() string { return s.resource + MetadataPath }

// Verifier returns the token verifier.
func (s *Service) Verifier() *Verifier { return s.verifier }

type ctxKey struct{}

// request is what the middleware leaves in the context for Require and PrincipalFrom.
type request struct {
	principal *Principal
	method    string
	route     string
	client    string
	challenge string
	logger    *slog.Logger
}

// WithPrincipal returns ctx carrying p (for tests and for callers outside HTTP).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, &request{principal: p, logger: slog.New(slog.DiscardHandler)})
}

// PrincipalFrom returns the request's principal, or nil when no middleware set one.
func PrincipalFrom(ctx context.Context) *Principal {
	if r, ok := ctx.Value(ctxKey{}).(*request); ok {
		return r.principal
	}
	return nil
}

// Require authorizes the request's principal for perm on resource. A denial is audit-logged
// and returned as a *DeniedError, which huma (or WriteError) answers with 401 or 403.
func Require(ctx context.Context, perm Permission, resource string) error {
	return require(ctx, perm, resource, true)
}

// RequireAny is Require before the resource is known (see AuthorizeAny).
func RequireAny(ctx context.Context, perm Permission) error {
	return require(ctx, perm, "", false)
}

func require(ctx context.Context, perm Permission, resource string, scoped bool) error {
	r, _ := ctx.Value(ctxKey{}).(*request)
	if r == nil {
		r = &request{logger: slog.New(slog.DiscardHandler)}
	}
	err := authorize(r.principal, perm, resource, scoped)
	var de *DeniedError
	if errors.As(err, &de) {
		de.challenge = r.challenge
		r.logger.LogAttrs(ctx, slog.LevelWarn, "authorization denied",
			slog.String(attrIdentity, de.Principal),
			slog.String(attrMethod, r.method),
			slog.String(attrRoute, r.route),
			slog.String(attrClient, r.client),
			slog.String(attrPermission, string(perm)),
			slog.String(attrResource, resource),
			slog.String(attrReason, de.Reason))
	}
	return err
}

// Audit log attribute keys.
const (
	attrIdentity   = "identity"
	attrMethod     = "method"
	attrRoute      = "route"
	attrClient     = "client"
	attrPermission = "permission"
	attrResource   = "resource"
	attrReason     = "reason"
	attrDetail     = "detail"
)

// Middleware authenticates every request and applies the rate and body limits:
//
//  1. per-client-address rate limit (429), except for the WithRateLimitExempt paths (probes),
//     which are served as anonymous without looking at their credentials;
//  2. credentials: no Authorization header is the anonymous principal; a Bearer token is
//     verified (401 on any failure); another scheme, or a token in the query string, is 401;
//  3. per-identity rate limit for authenticated callers (429);
//  4. the route's body limit (413 up front on Content-Length, else when read).
//
// It authorizes nothing by itself: handlers call Require (or wrap with RequireHandler).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := clientAddr(r, s.trustedProxies)
		req := &request{method: r.Method, route: r.URL.Path, client: client, challenge: s.MetadataURL(), logger: s.logger}
		// Probes are not throttled, and take nothing from the client's budget.
		exempt := (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.unlimited[r.URL.Path]
		if !exempt {
			if ok, wait, first := s.perAddress.allow(client); !ok {
				if first {
					s.audit(r.Context(), req, "rate limited", "-", "per-address rate limit", "further refusals of this client are not logged until it is allowed again")
				}
				WriteError(w, &RateLimitedError{Scope: "address", RetryAfter: wait})
				return
			}
		}
		// Probes are not throttled, so not worth a token verification either: anonymous.
		p, err := Anonymous(s.anonymousRead), error(nil)
		if !exempt {
			p, err = s.authenticate(r)
		}
		if err != nil {
			var ae *AuthnError
			if errors.As(err, &ae) {
				ae.challenge = req.challenge
				s.audit(r.Context(), req, "authentication failed", "unauthenticated", string(ae.Reason), ae.Detail)
			}
			WriteError(w, err)
			return
		}
		req.principal = p
		if !p.Anonymous {
			if ok, wait, first := s.perIdentity.allow(p.ID()); !ok {
				if first {
					s.audit(r.Context(), req, "rate limited", p.ID(), "per-identity rate limit", "further refusals of this identity are not logged until it is allowed again")
				}
				WriteError(w, &RateLimitedError{Scope: "identity", RetryAfter: wait})
				return
			}
		}
		limit := s.bodyLimit(r)
		if r.ContentLength > limit {
			WriteError(w, &BodyTooLargeError{Limit: limit})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, req)))
	})
}

func (s *Service) audit(ctx context.Context, req *request, msg, identity, reason, detail string) {
	attrs := []slog.Attr{
		slog.String(attrIdentity, identity),
		slog.String(attrMethod, req.method),
		slog.String(attrRoute, req.route),
		slog.String(attrClient, req.client),
		slog.String(attrReason, reason),
	}
	if detail != "" {
		attrs = append(attrs, slog.String(attrDetail, detail))
	}
	s.logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

func (s *Service) authenticate(r *http.Request) (*Principal, error) {
	q := r.URL.Query()
	if q.Has("access_token") { // RFC 6750 §2.3, which the MCP authorization spec forbids
		return nil, authnErr(ReasonTokenInQuery, "send the token in the Authorization header", nil)
	}
	hdrs := r.Header.Values("Authorization")
	if len(hdrs) == 0 {
		return Anonymous(s.anonymousRead), nil
	}
	if len(hdrs) > 1 {
		return nil, authnErr(ReasonScheme, "more than one Authorization header", nil)
	}
	scheme, token, ok := strings.Cut(hdrs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, authnErr(ReasonScheme, "want \"Authorization: Bearer <token>\"", nil)
	}
	return s.verifier.Verify(r.Context(), strings.TrimSpace(token))
}

func (s *Service) bodyLimit(r *http.Request) int64 {
	for _, rl := range s.bodyRoutes {
		if (rl.Method == "" || strings.EqualFold(rl.Method, r.Method)) && strings.HasPrefix(r.URL.Path, rl.PathPrefix) {
			return rl.Bytes
		}
	}
	return s.bodyDefault
}

// RequireHandler wraps a plain handler with an authorization check; resource extracts the
// resource from the request (nil: none).
func RequireHandler(perm Permission, resource func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := ""
		if resource != nil {
			res = resource(r)
		}
		if err := Require(r.Context(), perm, res); err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
