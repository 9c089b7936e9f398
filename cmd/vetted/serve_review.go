package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/api/ui"
	"github.com/vetted-dev/vetted/registry"
)

func init() { addConfigSection("ui") }

// uiConfig is the `ui:` section of vetted.yaml: how reviewers sign in to the pages under
// /ui. Without it the login form accepts a pasted token (`vetted token issue --role
// reviewer`). With oidc, the pages also offer the provider's login (authorization code with
// PKCE). The provider must be one of auth.issuers (start-up fails otherwise): its tokens are
// verified and mapped to roles like the API's. The token it returns (ID token or access
// token) must carry one of that issuer's audiences — client_id = the registry's audience,
// or the client id listed in the issuer's `audiences`. The provider is discovered lazily, at
// the first sign-in, and retried: the registry starts and serves while it is down.
//
//	ui:
//	  oidc:
//	    name: Acme SSO
//	    issuer: https://sso.acme.example               # one of auth.issuers
//	    client_id: vetted
//	    client_secret_env: VETTED_UI_CLIENT_SECRET     # confidential clients; must be set
//	    scopes: [openid, profile, email, groups]       # default: openid profile email + the
//	                                                   # issuer's roles_claim/namespaces_claim
//	                                                   # when the provider offers them
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

// serveReview builds the security team's desk and the review API option, and registers the
// job that ends expired exceptions.
func serveReview(c *serveConfig, log *slog.Logger, st registry.Backend) ([]api.Option, error) {
	desk, err := registry.NewDesk(st, registry.WithDeskLogger(log.With(slog.String("log", "review"))),
		registry.WithDeskRescan(func(ctx context.Context) error {
			if c.rescan == nil {
				return nil
			}
			_, err := c.rescan.RescanOnly(ctx)
			return err
		}),
		registry.WithDeskVouch(func(ctx context.Context, k registry.Key) ([]byte, error) {
			if c.voucher == nil {
				return nil, nil
			}
			return c.voucher.Vouch(ctx, k)
		}))
	if err != nil {
		return nil, err
	}
	c.review = &reviewWiring{desk: desk}
	if err := c.jobs.Register(desk.ExpiryJob(time.Minute)); err != nil {
		return nil, err
	}
	return []api.Option{api.WithReview(api.ReviewConfig{Desk: desk, ToolVersion: "vetted", Actor: func(ctx context.Context) string {
		return auth.PrincipalFrom(ctx).Actor() // "<issuer>|<subject> (<display name>)"; "" when anonymous
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
		TokenHint: "vetted token issue --role reviewer --subject <you> --data-dir " + c.DataDir,
		Origin:    originOf(c.authSvc.Metadata().Resource)}
	if o := uc.OIDC; o != nil {
		if o.Issuer == "" || o.ClientID == "" {
			return nil, usageErrorf("ui.oidc: issuer and client_id are required")
		}
		var oc outboundConfig
		var ac authConfig
		if c.File != nil {
			if err := c.File.Section("outbound", &oc); err != nil {
				return nil, usageError(err)
			}
			if err := c.File.Section("auth", &ac); err != nil {
				return nil, usageError(err)
			}
		}
		i := slices.IndexFunc(ac.Issuers, func(ic auth.IssuerConfig) bool { return ic.Issuer == o.Issuer })
		if i < 0 {
			return nil, usageErrorf("ui.oidc.issuer %q is not one of auth.issuers: the pages verify the provider's tokens and map them to roles "+
				"as the API does, so list it there too (byte for byte), with its roles_claim and role_mapping", o.Issuer)
		}
		ic := ac.Issuers[i]
		var secret string
		if o.ClientSecretEnv != "" {
			if secret = e.getenv(o.ClientSecretEnv); secret == "" {
				return nil, usageErrorf("ui.oidc.client_secret_env: the environment variable %s is unset or empty "+
					"(set it to the client secret, or remove client_secret_env for a public client)", o.ClientSecretEnv)
			}
		}
		// The same guard as the API's issuers: the provider's host is allowed.
		guard, err := oc.guard(log.With(slog.String("log", "outbound")), issuerGuardOptions(ac.Issuers)...)
		if err != nil {
			return nil, usageError(fmt.Errorf("ui.oidc: %w", err))
		}
		var claimScopes []string
		for _, cl := range []string{ic.RolesClaim, ic.NamespacesClaim} {
			if cl != "" {
				claimScopes = append(claimScopes, cl)
			}
		}
		// Discovered lazily (at the first sign-in, retried): the registry serves while the
		// provider is down.
		cfg.OIDC = &ui.OIDC{Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret,
			RedirectURL: c.authSvc.Metadata().Resource + ui.Prefix + "/oidc/callback", Scopes: o.Scopes, ClaimScopes: claimScopes,
			Client: guard.Client()}
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

// originOf returns scheme://host of the registry's URL: what a browser sends as Origin.
func originOf(resource string) string {
	u, err := url.Parse(resource)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
