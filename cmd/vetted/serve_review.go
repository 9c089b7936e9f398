package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/api/ui"
	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
)

func init() { addConfigSection("ui") }

// uiConfig is the `ui:` section of vetted.yaml: how reviewers sign in to the pages under
// /ui. Without it the login form accepts a pasted token (`vetted token issue --role
// reviewer`). With oidc, the pages also offer the provider's login (authorization code with
// PKCE); the provider must be one of auth.issuers, and the token it returns (ID token or
// access token) must carry this registry's audience — typically client_id = the audience.
//
//	ui:
//	  oidc:
//	    name: Acme SSO
//	    issuer: https://sso.acme.example
//	    client_id: https://vetted.acme.example
//	    client_secret_env: VETTED_UI_CLIENT_SECRET   # for confidential clients
//	    scopes: [openid, profile, email, groups]
type uiConfig struct {
	OIDC *struct {
		Name            string   `json:"name,omitempty"`
		Issuer          string   `json:"issuer"`
		ClientID        string   `json:"client_id"`
		ClientSecretEnv string   `json:"client_secret_env,omitempty"`
		Scopes          []string `json:"scopes,omitempty"`
	} `json:"oidc,omitempty"`
}

// reviewWiring is the security team's desk, shared by the review API and the pages. The
// publish side reads its VEX statements from the same store, and a VEX change runs
// serveConfig.rescan (set by servePublish) so that quarantine state follows at once.
type reviewWiring struct {
	desk *registry.Desk
}

// serveReview builds the security team's desk and the review API option.
func serveReview(c *serveConfig, log *slog.Logger, st registry.Store) ([]api.Option, error) {
	ds, ok := st.(registry.DeskStore)
	if !ok {
		return nil, fmt.Errorf("the %T store cannot keep review decisions", st)
	}
	desk, err := registry.NewDesk(ds, registry.WithDeskLogger(log.With(slog.String("log", "review"))),
		registry.WithDeskRescan(func(ctx context.Context) error { return c.rescan.Run(ctx) }),
		registry.WithDeskVouch(func(ctx context.Context, k registry.Key) ([]byte, error) { return c.vouch.Run(ctx, k) }))
	if err != nil {
		return nil, err
	}
	c.review = &reviewWiring{desk: desk}
	return []api.Option{api.WithReview(api.ReviewConfig{Desk: desk, ToolVersion: "vetted", Actor: func(ctx context.Context) string {
		if p := auth.PrincipalFrom(ctx); p != nil && !p.Anonymous {
			return p.Issuer + "|" + p.Subject
		}
		return ""
	}})}, nil
}

// serveUI puts the reviewers' pages under /ui beside the API.
func serveUI(ctx context.Context, e *env, c *serveConfig, log *slog.Logger, srv *api.Server) (http.Handler, error) {
	if c.review == nil || c.authSvc == nil {
		return srv.Handler(), nil
	}
	var uc uiConfig
	if c.File != nil {
		if err := c.File.Section("ui", &uc); err != nil {
			return nil, usageError(err)
		}
	}
	key, err := ui.LoadOrCreateKey(c.DataDir)
	if err != nil {
		return nil, err
	}
	cfg := ui.Config{Desk: c.review.desk, Verifier: c.authSvc.Verifier(), CSRFKey: key, Changed: srv.Invalidate,
		Logger:    log.With(slog.String("log", "ui")),
		TokenHint: "vetted token issue --role reviewer --subject <you> --data-dir " + c.DataDir}
	if o := uc.OIDC; o != nil {
		if o.Issuer == "" || o.ClientID == "" {
			return nil, usageErrorf("ui.oidc: issuer and client_id are required")
		}
		var oc outboundConfig
		if c.File != nil {
			if err := c.File.Section("outbound", &oc); err != nil {
				return nil, usageError(err)
			}
		}
		guard, err := oc.guard(log.With(slog.String("log", "outbound")), netguard.AllowURLs(o.Issuer))
		if err != nil {
			return nil, usageError(fmt.Errorf("ui.oidc.issuer: %w", err))
		}
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		authURL, tokenURL, err := ui.DiscoverOIDC(dctx, guard.Client(), o.Issuer)
		if err != nil {
			return nil, fmt.Errorf("ui.oidc: %w", err)
		}
		cfg.OIDC = &ui.OIDC{Name: o.Name, AuthorizationURL: authURL, TokenURL: tokenURL, ClientID: o.ClientID,
			RedirectURL: c.authSvc.Metadata().Resource + ui.Prefix + "/oidc/callback", Scopes: o.Scopes, Client: guard.Client()}
		if o.ClientSecretEnv != "" {
			cfg.OIDC.ClientSecret = e.getenv(o.ClientSecretEnv)
		}
	}
	h, err := ui.New(cfg)
	if err != nil {
		return nil, usageError(err)
	}
	mux := http.NewServeMux()
	pages := c.authSvc.Middleware(h) // rate and body limits; the pages verify their cookie
	mux.Handle(ui.Prefix+"/", pages)
	mux.Handle(ui.Prefix, pages)
	mux.Handle("/", srv.Handler())
	return mux, nil
}
