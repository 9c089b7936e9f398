package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/api/auth"
)

// The token exchange of the official registry's publisher CLI (`mcp-publisher login …`):
// POST {prefix}/auth/<method> trades a proof of identity for a short-lived registry token,
// answered as {"registry_token", "expires_at"}. Vetted accepts the methods that map onto its
// identity model — a GitHub Actions OIDC token (verified like any bearer token: configured
// issuer, audience, lifetime, and the auth.publishers rules for namespaces) and, when an
// administrator enables it for local testing, "none" — and refuses the others with a
// problem naming the login to use.

// TokenExchangeConfig enables the token exchange.
type TokenExchangeConfig struct {
	// Verify verifies a token exactly as the API verifies a bearer token.
	Verify func(ctx context.Context, raw string) (*auth.Principal, error)
	// GitHubIssuer is the issuer whose tokens github-oidc accepts (GitHub Actions:
	// https://token.actions.githubusercontent.com); "" disables the method.
	GitHubIssuer string
	// Mint signs a registry token for subject with the publisher role on namespaces.
	Mint func(subject string, namespaces []string, ttl time.Duration) (token string, expires time.Time, err error)
	// NoneNamespaces, when set, enables the "none" method: anyone who asks gets a publisher
	// token on these patterns. For local testing only.
	NoneNamespaces []string
	// TTL is the minted tokens' lifetime (default DefaultExchangeTTL).
	TTL time.Duration
}

// DefaultExchangeTTL is how long an exchanged token lives by default (upstream: 5 minutes).
const DefaultExchangeTTL = 10 * time.Minute

// WithTokenExchange enables the token exchange endpoints.
func WithTokenExchange(cfg TokenExchangeConfig) Option {
	return func(o *options) error {
		if cfg.Verify == nil || cfg.Mint == nil {
			return errors.New("api: the token exchange needs a verifier and a token minter")
		}
		if cfg.TTL <= 0 {
			cfg.TTL = DefaultExchangeTTL
		}
		o.exchange = &cfg
		return nil
	}
}

// TokenResponse is upstream's answer to a token exchange.
type TokenResponse struct {
	RegistryToken string `json:"registry_token" doc:"A registry token (JWT) for Authorization: Bearer"`
	ExpiresAt     int64  `json:"expires_at" doc:"When the token expires (Unix seconds)"`
}

type tokenOutput struct{ Body TokenResponse }

type githubOIDCInput struct {
	Body struct {
		OIDCToken string `json:"oidc_token" maxLength:"16384" doc:"A GitHub Actions OIDC token whose audience is this registry"`
	}
}

// noBodyInput ignores whatever body the CLI sends: `mcp-publisher login none` posts none at
// all, the refused methods post their own shapes, and none of it is read.
type noBodyInput struct{}

// Login methods of mcp-publisher that Vetted does not accept, and why.
var refusedLogins = map[string]string{
	"github-at": "a GitHub personal or OAuth access token says who a person is on GitHub, not that a release comes from your CI",
	"dns":       "a DNS-proven key says who owns a domain, not which CI built the release",
	"http":      "an HTTP-proven key says who owns a domain, not which CI built the release",
	"oidc":      "this registry verifies its configured identity providers' tokens directly",
}

func registerTokenExchange(api huma.API, s *Server, prefix string) {
	suffix := "-" + prefix[1:]
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "exchange-github-oidc-token" + suffix, Method: http.MethodPost, Path: prefix + "/auth/github-oidc",
		Summary: "Exchange a GitHub Actions OIDC token for a registry token", Tags: []string{"auth"},
		Description: "For `mcp-publisher login github-oidc`. The token is verified like any bearer token " +
			"(configured issuer, audience = this registry, lifetime) and must come from the configured GitHub " +
			"issuer; the namespaces come from the auth.publishers rules. The answer is a short-lived token of " +
			"this registry with the publisher role on exactly those namespaces.",
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotImplemented},
	}, PermNone), func(ctx context.Context, in *githubOIDCInput) (*tokenOutput, error) {
		return s.exchangeGitHubOIDC(ctx, in.Body.OIDCToken)
	})
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "exchange-none-token" + suffix, Method: http.MethodPost, Path: prefix + "/auth/none",
		Summary: "Get a registry token without proof of identity (local testing)", Tags: []string{"auth"},
		Description: "For `mcp-publisher login none`: only when an administrator enabled it " +
			"(auth.token_exchange.none), with the publisher role on the configured namespaces.",
		Errors: []int{http.StatusForbidden, http.StatusNotImplemented},
	}, PermNone), func(ctx context.Context, _ *noBodyInput) (*tokenOutput, error) {
		x := s.exchange
		if x == nil || len(x.NoneNamespaces) == 0 {
			return nil, huma.Error403Forbidden("login none is disabled on this registry: " + loginAdvice)
		}
		return s.mint(ctx, "none", "anonymous (login none)", x.NoneNamespaces)
	})
	for _, method := range []string{"github-at", "dns", "http", "oidc"} {
		why := refusedLogins[method]
		huma.Register(api, withPermission(huma.Operation{
			OperationID: "exchange-" + method + "-token" + suffix, Method: http.MethodPost, Path: prefix + "/auth/" + method,
			Summary: "Refused: login " + method, Tags: []string{"auth"},
			Description: "Vetted does not accept this login method: " + why + ". " + loginAdvice,
			Errors:      []int{http.StatusForbidden},
		}, PermNone), func(context.Context, *noBodyInput) (*tokenOutput, error) {
			return nil, huma.Error403Forbidden(fmt.Sprintf("login %s is not accepted by this registry: %s. %s", method, why, loginAdvice))
		})
	}
}

// loginAdvice says which login works.
const loginAdvice = "Use `mcp-publisher login github-oidc --registry <this registry>` in GitHub Actions " +
	"(permissions: id-token: write), or `vetted publish` with a token of one of this registry's identity providers " +
	"(see /.well-known/oauth-protected-resource)."

func (s *Server) exchangeGitHubOIDC(ctx context.Context, raw string) (*tokenOutput, error) {
	x := s.exchange
	if x == nil || x.GitHubIssuer == "" {
		return nil, huma.Error403Forbidden("login github-oidc is not configured on this registry (auth.token_exchange.github_oidc with the issuer in auth.issuers). " + loginAdvice)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, huma.Error400BadRequest("oidc_token is required", &huma.ErrorDetail{Location: "body.oidc_token", Message: "required"})
	}
	p, err := x.Verify(ctx, raw)
	if err != nil {
		var ae *auth.AuthnError
		if errors.As(err, &ae) {
			s.log.Warn("token exchange refused", slog.String("log", "audit"), slog.String("method", "github-oidc"), slog.String("reason", string(ae.Reason)))
			return nil, huma.Error401Unauthorized("token exchange failed: " + string(ae.Reason))
		}
		return nil, problem(s.log, err)
	}
	if p.Issuer != x.GitHubIssuer {
		return nil, huma.Error401Unauthorized(fmt.Sprintf("token exchange failed: the token's issuer %q is not the GitHub Actions issuer %q; use it directly as a bearer token", p.Issuer, x.GitHubIssuer))
	}
	if !p.HasRole(auth.RolePublisher) || len(p.Namespaces) == 0 {
		return nil, huma.Error403Forbidden(fmt.Sprintf("no auth.publishers rule grants this workflow a namespace (subject %q): ask the registry's administrators to add one", p.Subject))
	}
	ns := make([]string, len(p.Namespaces))
	for i, n := range p.Namespaces {
		ns[i] = n.String()
	}
	return s.mint(ctx, "github-oidc", p.ID(), ns)
}

// mint signs the exchanged token; the audit log records who got which namespaces.
func (s *Server) mint(ctx context.Context, method, subject string, namespaces []string) (*tokenOutput, error) {
	x := s.exchange
	tok, exp, err := x.Mint(subject, namespaces, x.TTL)
	if err != nil {
		return nil, problem(s.log, fmt.Errorf("mint a registry token: %w", err))
	}
	s.log.InfoContext(ctx, "token exchanged", slog.String("log", "audit"), slog.String("method", method),
		slog.String("subject", subject), slog.Any("namespaces", namespaces), slog.Time("expires", exp))
	return &tokenOutput{Body: TokenResponse{RegistryToken: tok, ExpiresAt: exp.Unix()}}, nil
}
