package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
)

// GitHubActionsIssuer is GitHub Actions' OIDC issuer.
const GitHubActionsIssuer = "https://token.actions.githubusercontent.com"

// tokenExchangeConfig is auth.token_exchange: the logins of the official publisher CLI
// (`mcp-publisher login github-oidc|none`), see docs/interop.md.
//
//	auth:
//	  token_exchange:
//	    github_oidc: {issuer: https://token.actions.githubusercontent.com}  # must be in auth.issuers
//	    none: {namespaces: ["io.github.example/*"]}                        # local testing only
//	    ttl: 10m
type tokenExchangeConfig struct {
	GitHubOIDC *githubOIDCExchange `json:"github_oidc,omitempty"`
	None       *noneExchange       `json:"none,omitempty"`
	TTL        string              `json:"ttl,omitempty"`
}

type githubOIDCExchange struct {
	Issuer string `json:"issuer,omitempty"`
}

type noneExchange struct {
	Namespaces []string `json:"namespaces"`
}

// tokenExchange returns the api option enabling the token exchange: github-oidc when the
// GitHub issuer (GitHubActionsIssuer unless configured) is among auth.issuers, none only when
// configured. Exchanged tokens are signed by the embedded issuer.
func tokenExchange(ac authConfig, svc *auth.Service) ([]api.Option, error) {
	x := ac.TokenExchange
	configured := func(iss string) bool {
		return slices.ContainsFunc(ac.Issuers, func(ic auth.IssuerConfig) bool { return ic.Issuer == iss })
	}
	cfg := api.TokenExchangeConfig{}
	switch {
	case x.GitHubOIDC != nil && x.GitHubOIDC.Issuer != "":
		if !configured(x.GitHubOIDC.Issuer) {
			return nil, fmt.Errorf("auth.token_exchange.github_oidc.issuer %q is not one of auth.issuers", x.GitHubOIDC.Issuer)
		}
		cfg.GitHubIssuer = x.GitHubOIDC.Issuer
	case configured(GitHubActionsIssuer):
		cfg.GitHubIssuer = GitHubActionsIssuer
	case x.GitHubOIDC != nil:
		return nil, fmt.Errorf("auth.token_exchange.github_oidc: add %s (or the issuer you name here) to auth.issuers", GitHubActionsIssuer)
	}
	if x.None != nil {
		if len(x.None.Namespaces) == 0 {
			return nil, fmt.Errorf("auth.token_exchange.none: list the namespaces (patterns such as io.github.example/*) its tokens may publish")
		}
		for _, n := range x.None.Namespaces {
			if _, err := auth.ParsePattern(n); err != nil {
				return nil, fmt.Errorf("auth.token_exchange.none.namespaces: %w", err)
			}
		}
		cfg.NoneNamespaces = x.None.Namespaces
	}
	if x.TTL != "" {
		d, err := time.ParseDuration(x.TTL)
		if err != nil || d <= 0 || d > auth.MaxSelfTokenTTL {
			return nil, fmt.Errorf("auth.token_exchange.ttl %q: want a positive duration of at most %v", x.TTL, auth.MaxSelfTokenTTL)
		}
		cfg.TTL = d
	}
	si := svc.SelfIssuer()
	if si == nil {
		if cfg.GitHubIssuer != "" && x.GitHubOIDC != nil || cfg.NoneNamespaces != nil {
			return nil, fmt.Errorf("auth.token_exchange needs the embedded issuer (auth.self_issuer.disabled is true)")
		}
		return nil, nil // the endpoints answer that the login is not configured
	}
	aud := svc.Verifier().Audience()
	cfg.Verify = svc.Verifier().Verify
	cfg.Mint = func(subject string, namespaces []string, ttl time.Duration) (string, time.Time, error) {
		return si.Issue(auth.TokenRequest{Subject: subject, Audience: aud, Roles: []auth.Role{auth.RolePublisher}, Namespaces: namespaces, TTL: ttl})
	}
	return []api.Option{api.WithTokenExchange(cfg)}, nil
}
