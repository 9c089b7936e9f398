package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
)

// Prefix is where the pages are served.
const Prefix = "/ui"

// TokenCookie holds the caller's token. It is HttpOnly, Secure and SameSite=Strict, scoped
// to Prefix, and verified on every request exactly like a bearer token.
const TokenCookie = "vetted_ui_token"

// CSP is the pages' Content-Security-Policy: no script at all, styles from Vetted only.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// TokenVerifier turns a token into a principal (api/auth.Verifier).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*auth.Principal, error)
}

// Config configures the pages.
type Config struct {
	// Desk does the security team's work. Required.
	Desk *registry.Desk
	// Verifier verifies the token of every request. Required.
	Verifier TokenVerifier
	// CSRFKey keys the CSRF tokens (at least 32 bytes; LoadOrCreateKey). Required.
	CSRFKey []byte
	// OIDC, when set, offers login with the configured identity provider.
	OIDC *OIDC
	// TokenHint is shown on the login form (e.g. the `vetted token issue` command line).
	TokenHint string
	// Changed is called after an action changed what clients see (api.Server.Invalidate).
	Changed func()
	// Logger logs (default: discard).
	Logger *slog.Logger
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// Origin is this registry's public origin ("https://vetted.example.com", the auth
	// resource). A state-changing request's Origin header must equal it, scheme included.
	// Empty: the scheme of the connection (https with TLS, else http) and the Host header.
	Origin string
}

// Handler serves the pages under Prefix.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
	log   *slog.Logger
	now   func() time.Time
	disc  discovery // the OIDC provider's endpoints, discovered lazily
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// New returns the pages' handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Desk == nil || cfg.Verifier == nil {
		return nil, errors.New("ui: a desk and a token verifier are required")
	}
	if len(cfg.CSRFKey) < 32 {
		return nil, errors.New("ui: the CSRF key must be at least 32 bytes")
	}
	if cfg.Origin != "" {
		if _, _, err := parseOrigin(cfg.Origin); err != nil {
			return nil, fmt.Errorf("ui: origin: %w", err)
		}
	}
	if cfg.OIDC != nil {
		if err := cfg.OIDC.validate(); err != nil {
			return nil, err
		}
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{}, log: cfg.Logger, now: cfg.Clock}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if h.now == nil {
		h.now = time.Now
	}
	if err := h.parse(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) parse() error {
	base, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/partials.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if page == "base" || page == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("ui: template %s: %w", n, err)
		}
		h.pages[page] = t
	}
	return nil
}

func (h *Handler) routes() {
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET "+Prefix+"/login", h.loginPage)
	h.mux.HandleFunc("POST "+Prefix+"/login", h.loginToken)
	h.mux.HandleFunc("POST "+Prefix+"/logout", h.authed(h.logout))
	h.mux.HandleFunc("GET "+Prefix+"/oidc/start", h.oidcStart)
	h.mux.HandleFunc("GET "+Prefix+"/oidc/callback", h.oidcCallback)

	h.mux.HandleFunc("GET "+Prefix+"/{$}", h.authed(h.dashboard))
	h.mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	h.mux.HandleFunc("GET "+Prefix+"/queue", h.authed(h.queue))
	h.mux.HandleFunc("GET "+Prefix+"/servers", h.authed(h.servers))
	h.mux.HandleFunc("POST "+Prefix+"/exceptions/{id}/revoke", h.authed(h.revokeException))
	h.mux.HandleFunc("GET "+Prefix+"/review/{ns}/{name}/{version}", h.authed(h.review))
	h.mux.HandleFunc("POST "+Prefix+"/versions/{ns}/{name}/{version}/{action}", h.authed(h.act))
	h.mux.HandleFunc("GET "+Prefix+"/versions/{ns}/{name}/{version}", h.authed(h.version))
	h.mux.HandleFunc("GET "+Prefix+"/vulnerabilities", h.authed(h.vulnerabilities))
	h.mux.HandleFunc("GET "+Prefix+"/vex", h.authed(h.vexPage))
	h.mux.HandleFunc("POST "+Prefix+"/vex", h.authed(h.vexUpload))
	h.mux.HandleFunc("POST "+Prefix+"/vex/{id}/withdraw", h.authed(h.vexWithdraw))
	h.mux.HandleFunc("GET "+Prefix+"/audit", h.authed(h.audit))
	h.mux.HandleFunc("GET "+Prefix+"/audit.jsonl", h.authed(h.auditExport))
	h.mux.HandleFunc("GET "+Prefix+"/scan/{ns}/{name}/{version}/{format}", h.authed(h.scanDownload))
	h.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, http.StatusNotFound, "No such page", "There is no page at "+r.URL.Path+".")
	})
}

// ServeHTTP serves the pages with their security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the
	// pages' own form posts, which the CSRF check refuses.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, Prefix+"/static/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// session is an authenticated request: the verified principal and its token.
type session struct {
	p     *auth.Principal
	token string
	csrf  string
}

// Actor names the reviewer in the audit chain: "<issuer>|<subject> (<display name>)".
func (s *session) Actor() string { return s.p.Actor() }

// who is the principal as the pages show it: the token's email, preferred_username or
// name, else its subject.
func who(p *auth.Principal) string {
	if d := p.DisplayName(); d != "" {
		return d
	}
	return p.Subject
}

// authed verifies the token cookie (no cookie: to the login page) and requires the review
// permission (403 page otherwise). State-changing requests also pass the CSRF checks.
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(TokenCookie)
		if err != nil || c.Value == "" {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"/login?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
				return
			}
			h.fail(w, r, nil, http.StatusUnauthorized, "Sign in first", "This action needs a signed-in reviewer.")
			return
		}
		p, err := h.cfg.Verifier.Verify(r.Context(), c.Value)
		if err != nil {
			h.log.Warn("ui: token refused", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
			clearCookie(w, TokenCookie, Prefix)
			h.fail(w, r, nil, http.StatusUnauthorized, "Your sign-in is no longer valid", "The token was refused: "+err.Error()+". Sign in again.")
			return
		}
		s := &session{p: p, token: c.Value, csrf: csrfToken(h.cfg.CSRFKey, "session", c.Value)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := h.checkCSRF(r, s.csrf); err != nil {
				h.fail(w, r, s, http.StatusForbidden, "Request refused", err.Error())
				return
			}
		}
		if r.URL.Path != Prefix+"/logout" {
			if err := auth.Authorize(p, auth.PermReview, ""); err != nil {
				h.log.Warn("ui: access denied", slog.String("identity", p.ID()), slog.String("method", r.Method),
					slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
				h.fail(w, r, s, http.StatusForbidden, "Forbidden", "Signed in as "+who(p)+" ("+roles(p)+"): "+
					"these pages are for reviewers. "+err.Error()+".")
				return
			}
		}
		fn(w, r, s)
	}
}

func roles(p *auth.Principal) string {
	if len(p.Roles) == 0 {
		return "no roles"
	}
	rs := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		rs[i] = string(r)
	}
	return "roles: " + strings.Join(rs, ", ")
}

// page is what every template gets.
type page struct {
	Title   string
	User    string
	CSRF    string
	Nav     string
	Flash   string
	Error   string
	Data    any
	Status  int
	Message string
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p page) {
	t := h.pages[name]
	if t == nil {
		h.log.Error("ui: no template", slog.String("page", name))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s != nil {
		p.User = who(s.p)
		p.CSRF = s.csrf
	}
	if p.Flash == "" {
		p.Flash = flashText(r.URL.Query().Get("done"))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "base.html", p); err != nil {
		h.log.Error("ui: render", slog.String("page", name), slog.String("error", err.Error()))
	}
}

// fail renders an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, status int, title, msg string) {
	h.render(w, r, s, status, "error", page{Title: title, Status: status, Message: msg})
}

// failErr renders a desk error as the right page: 400 for bad input, 404, 409, else 500.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var fe *registry.FieldError
	switch {
	case errors.As(err, &fe):
		h.fail(w, r, s, http.StatusBadRequest, "Check the form", "The "+fe.Field+" field: "+fe.Reason+".")
	case errors.Is(err, registry.ErrNotFound):
		h.fail(w, r, s, http.StatusNotFound, "Not found", err.Error())
	case errors.Is(err, registry.ErrConflict):
		h.fail(w, r, s, http.StatusConflict, "Not possible now", err.Error())
	case errors.Is(err, registry.ErrInvalid):
		h.fail(w, r, s, http.StatusBadRequest, "Check the form", err.Error())
	default:
		h.log.Error("ui: internal error", slog.String("error", err.Error()))
		h.fail(w, r, s, http.StatusInternalServerError, "Something went wrong", "The registry could not complete the request; try again.")
	}
}

var flashes = map[string]string{
	"approve": "Approved: the version is published.", "reject": "Rejected.",
	"quarantine": "Quarantined: clients no longer get this version.", "release": "Released: the version is published again.",
	"vex": "VEX document recorded; reports and quarantine state reflect it now.", "withdraw": "VEX document withdrawn.",
	"revoke": "Exception revoked; the version was re-evaluated (a published version with accepted findings goes back to the review queue).",
}

func flashText(k string) string { return flashes[k] }

// safeNext keeps only local page paths for post-login redirects.
func safeNext(s string) string {
	if !strings.HasPrefix(s, Prefix+"/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return Prefix + "/"
	}
	return s
}

func setCookie(w http.ResponseWriter, name, value, path string, maxAge int, same http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: same})
}

func clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}
