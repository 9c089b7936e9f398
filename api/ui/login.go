package ui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// loginCookie carries the login form's CSRF nonce; oidcCookie the state of an OIDC login in
// progress (signed, short-lived). Neither is a session: the token cookie is the only
// credential and is verified on every request.
const (
	loginCookie = "vetted_ui_login"
	oidcCookie  = "vetted_ui_oidc"
	oidcTTL     = 10 * time.Minute
	maxTokenLen = 16 << 10
)

// OIDC is the identity provider the pages log in with (authorization code + PKCE).
type OIDC struct {
	// Name is shown on the button ("Sign in with <Name>").
	Name string
	// Issuer is the provider's issuer URL. Unless AuthorizationURL and TokenURL are given,
	// they are discovered from it lazily: at the first sign-in, and again on a later one
	// (at most every DiscoveryRetry) until discovery succeeds. The pages and the API serve
	// meanwhile; only the provider's sign-in waits for it.
	Issuer string
	// AuthorizationURL and TokenURL are the provider's endpoints (see Issuer).
	AuthorizationURL string
	TokenURL         string
	// ClientID (and ClientSecret for confidential clients) identify Vetted at the provider.
	ClientID     string
	ClientSecret string
	// RedirectURL is this registry's callback: <resource>/ui/oidc/callback.
	RedirectURL string
	// Scopes requested. Empty: DefaultScopes plus each of ClaimScopes the provider offers.
	Scopes []string
	// ClaimScopes are the claims the registry maps to roles and namespaces (roles_claim,
	// namespaces_claim, e.g. "groups"). With the default scopes, each is also requested as
	// a scope of the same name when the provider lists it in scopes_supported — or, for
	// "groups", when the provider lists no scopes at all — so that a provider which releases
	// a claim only on request (Dex's groups) releases it.
	ClaimScopes []string
	// Client makes the discovery and token requests (default: an http.Client with a
	// timeout).
	Client *http.Client
}

// DefaultScopes are always requested unless OIDC.Scopes is set.
var DefaultScopes = []string{"openid", "profile", "email"}

// DiscoveryRetry is the least time between two discovery attempts of the provider.
const DiscoveryRetry = 10 * time.Second

func (o *OIDC) validate() error {
	urls := map[string]string{"redirect URL": o.RedirectURL}
	if o.AuthorizationURL != "" || o.TokenURL != "" {
		urls["authorization URL"], urls["token URL"] = o.AuthorizationURL, o.TokenURL
	} else {
		urls["issuer"] = o.Issuer
	}
	for k, v := range urls {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("ui: OIDC %s %q is not an http(s) URL", k, v)
		}
	}
	if o.ClientID == "" {
		return errors.New("ui: OIDC client id is required")
	}
	return nil
}

func (o *OIDC) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// scopes are the scopes to request from a provider that offers supported (nil: unknown).
func (o *OIDC) scopes(supported []string) []string {
	if len(o.Scopes) > 0 {
		return o.Scopes
	}
	out := slices.Clone(DefaultScopes)
	for _, c := range o.ClaimScopes {
		if c == "" || slices.Contains(out, c) {
			continue
		}
		if slices.Contains(supported, c) || (len(supported) == 0 && c == "groups") {
			out = append(out, c)
		}
	}
	return out
}

// Endpoints is what the pages need from the provider's OpenID configuration.
type Endpoints struct {
	AuthorizationURL string
	TokenURL         string
	// ScopesSupported is the provider's scopes_supported (nil when it lists none).
	ScopesSupported []string
}

// discovery holds the provider's endpoints once found, and the last failure until then.
type discovery struct {
	mu      sync.Mutex
	ep      *Endpoints
	triedAt time.Time
	lastErr error
}

// endpoints returns the provider's endpoints, discovering them when they are not known yet
// (at most every DiscoveryRetry; in between, the last failure).
func (h *Handler) endpoints(ctx context.Context) (Endpoints, error) {
	o := h.cfg.OIDC
	if o.AuthorizationURL != "" && o.TokenURL != "" {
		return Endpoints{AuthorizationURL: o.AuthorizationURL, TokenURL: o.TokenURL}, nil
	}
	d := &h.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ep != nil {
		return *d.ep, nil
	}
	now := h.now()
	if !d.triedAt.IsZero() && now.Sub(d.triedAt) < DiscoveryRetry {
		return Endpoints{}, d.lastErr
	}
	d.triedAt = now
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ep, err := Discover(dctx, o.client(), o.Issuer)
	if err != nil {
		d.lastErr = err
		h.log.Warn("ui: OIDC discovery failed; retried at a later sign-in", slog.String("issuer", o.Issuer), slog.String("error", err.Error()))
		return Endpoints{}, err
	}
	d.ep = &ep
	h.log.Info("ui: OIDC provider discovered", slog.String("issuer", o.Issuer))
	return ep, nil
}

// DiscoverOIDC reads the provider's endpoints from its OpenID configuration.
func DiscoverOIDC(ctx context.Context, client *http.Client, issuer string) (authURL, tokenURL string, err error) {
	ep, err := Discover(ctx, client, issuer)
	return ep.AuthorizationURL, ep.TokenURL, err
}

// Discover reads the provider's OpenID configuration, whose issuer must equal issuer
// exactly and whose endpoints must be http(s) URLs.
func Discover(ctx context.Context, client *http.Client, issuer string) (Endpoints, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %w", err)
	}
	return parseDiscovery(body, issuer)
}

// maxDiscoveryBytes bounds a provider's OpenID configuration.
const maxDiscoveryBytes = 1 << 20

// parseDiscovery reads the endpoints from an OpenID configuration document, which must name
// issuer exactly and give http(s) endpoints.
func parseDiscovery(body []byte, issuer string) (Endpoints, error) {
	if len(body) > maxDiscoveryBytes {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: document larger than %d bytes", maxDiscoveryBytes)
	}
	var doc struct {
		Issuer   string   `json:"issuer"`
		AuthURL  string   `json:"authorization_endpoint"`
		TokenURL string   `json:"token_endpoint"`
		Scopes   []string `json:"scopes_supported"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %w", err)
	}
	if doc.Issuer != issuer {
		return Endpoints{}, fmt.Errorf("ui: OIDC discovery: issuer %q, want %q", doc.Issuer, issuer)
	}
	for _, e := range []struct{ key, v string }{{"authorization_endpoint", doc.AuthURL}, {"token_endpoint", doc.TokenURL}} {
		u, err := url.Parse(e.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Endpoints{}, fmt.Errorf("ui: OIDC discovery: %s %q is not an http(s) URL", e.key, e.v)
		}
	}
	return Endpoints{AuthorizationURL: doc.AuthURL, TokenURL: doc.TokenURL, ScopesSupported: doc.Scopes}, nil
}

type loginData struct {
	Next      string
	OIDC      string
	TokenHint string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	nonce := randomToken()
	setCookie(w, loginCookie, nonce, Prefix, int(oidcTTL.Seconds()), http.SameSiteStrictMode)
	d := loginData{Next: safeNext(r.URL.Query().Get("next")), TokenHint: h.cfg.TokenHint}
	if h.cfg.OIDC != nil {
		d.OIDC = h.cfg.OIDC.Name
		if d.OIDC == "" {
			d.OIDC = "your identity provider"
		}
	}
	h.render(w, r, nil, http.StatusOK, "login", page{Title: "Sign in", CSRF: csrfToken(h.cfg.CSRFKey, "login", nonce), Data: d})
}

// loginToken accepts a token pasted into the form (e.g. from `vetted token issue`).
func (h *Handler) loginToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(loginCookie)
	if err != nil {
		h.fail(w, r, nil, http.StatusForbidden, "Request refused", "The sign-in form expired; open the sign-in page again.")
		return
	}
	if err := h.checkCSRF(r, csrfToken(h.cfg.CSRFKey, "login", c.Value)); err != nil {
		h.fail(w, r, nil, http.StatusForbidden, "Request refused", err.Error())
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" || len(tok) > maxTokenLen {
		h.fail(w, r, nil, http.StatusBadRequest, "Check the form", "The token field is required: paste a token from `vetted token issue` or your identity provider.")
		return
	}
	if !h.signIn(w, r, tok) {
		return
	}
	clearCookie(w, loginCookie, Prefix)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// signIn verifies tok and sets the token cookie; on failure it renders the error page.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, tok string) bool {
	p, err := h.cfg.Verifier.Verify(r.Context(), tok)
	if err != nil {
		h.fail(w, r, nil, http.StatusUnauthorized, "Sign-in refused", "The token was refused: "+err.Error()+".")
		return false
	}
	age := int(time.Until(p.ExpiresAt).Seconds())
	if p.ExpiresAt.IsZero() || age > 24*3600 {
		age = 24 * 3600
	}
	setCookie(w, TokenCookie, tok, Prefix, age, http.SameSiteStrictMode)
	return true
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	clearCookie(w, TokenCookie, Prefix)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

// oidcState is what the browser carries between the start of an OIDC login and its callback.
type oidcState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

func (h *Handler) sealState(st oidcState) string {
	b, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + csrfToken(h.cfg.CSRFKey, "oidc", p)
}

func (h *Handler) openState(v string) (oidcState, error) {
	p, mac, ok := strings.Cut(v, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(csrfToken(h.cfg.CSRFKey, "oidc", p))) {
		return oidcState{}, errors.New("the login state was tampered with")
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return oidcState{}, errors.New("malformed login state")
	}
	var st oidcState
	if err := json.Unmarshal(b, &st); err != nil {
		return oidcState{}, errors.New("malformed login state")
	}
	if h.now().Unix() > st.Expires {
		return oidcState{}, errors.New("the login took too long; start again")
	}
	return st, nil
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	o := h.cfg.OIDC
	if o == nil {
		h.fail(w, r, nil, http.StatusNotFound, "No identity provider", "This registry has no identity provider configured; sign in with a token.")
		return
	}
	ep, err := h.endpoints(r.Context())
	if err != nil {
		h.fail(w, r, nil, http.StatusServiceUnavailable, "Identity provider unavailable",
			"The identity provider cannot be reached just now ("+err.Error()+"). Try again in a few seconds, or sign in with a token.")
		return
	}
	st := oidcState{State: randomToken(), Verifier: randomToken() + randomToken(), Nonce: randomToken(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: h.now().Add(oidcTTL).Unix()}
	// Lax, not Strict: the provider's redirect back is a cross-site navigation.
	setCookie(w, oidcCookie, h.sealState(st), Prefix+"/oidc", int(oidcTTL.Seconds()), http.SameSiteLaxMode)
	scopes := o.scopes(ep.ScopesSupported)
	q := url.Values{
		"response_type": {"code"}, "client_id": {o.ClientID}, "redirect_uri": {o.RedirectURL},
		"scope": {strings.Join(scopes, " ")}, "state": {st.State}, "nonce": {st.Nonce},
		"code_challenge": {pkceChallenge(st.Verifier)}, "code_challenge_method": {"S256"},
	}
	u := ep.AuthorizationURL
	if strings.Contains(u, "?") {
		u += "&" + q.Encode()
	} else {
		u += "?" + q.Encode()
	}
	http.Redirect(w, r, u, http.StatusFound)
}

func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := h.cfg.OIDC
	if o == nil {
		h.fail(w, r, nil, http.StatusNotFound, "No identity provider", "This registry has no identity provider configured.")
		return
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		h.fail(w, r, nil, http.StatusBadRequest, "Sign-in failed", "No login is in progress in this browser; start again.")
		return
	}
	clearCookie(w, oidcCookie, Prefix+"/oidc")
	st, err := h.openState(c.Value)
	if err != nil {
		h.fail(w, r, nil, http.StatusBadRequest, "Sign-in failed", err.Error()+".")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		h.fail(w, r, nil, http.StatusUnauthorized, "Sign-in failed", "The identity provider said: "+e+" "+q.Get("error_description"))
		return
	}
	if got := q.Get("state"); got == "" || !hmac.Equal([]byte(got), []byte(st.State)) {
		h.fail(w, r, nil, http.StatusBadRequest, "Sign-in failed", "The state parameter does not match this browser's login.")
		return
	}
	code := q.Get("code")
	if code == "" {
		h.fail(w, r, nil, http.StatusBadRequest, "Sign-in failed", "The identity provider sent no code.")
		return
	}
	tok, err := h.exchange(r.Context(), code, st)
	if err != nil {
		h.fail(w, r, nil, http.StatusUnauthorized, "Sign-in failed", err.Error())
		return
	}
	if !h.signIn(w, r, tok) {
		return
	}
	// A page (not a redirect) moves on: the token cookie is SameSite=Strict and would not be
	// sent on a redirect chain that started at the provider.
	h.render(w, r, nil, http.StatusOK, "continue", page{Title: "Signed in", Data: st.Next})
}

// exchange trades the code for tokens and returns the one whose audience is this registry.
func (h *Handler) exchange(ctx context.Context, code string, st oidcState) (string, error) {
	o := h.cfg.OIDC
	ep, err := h.endpoints(ctx)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o.RedirectURL},
		"client_id": {o.ClientID}, "code_verifier": {st.Verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if o.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
	}
	resp, err := o.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("the token request failed: %w", err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return "", fmt.Errorf("the token response is not JSON (%s)", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the identity provider refused the code: %s %s", tr.Error, tr.Description)
	}
	var why []string
	for _, t := range []string{tr.IDToken, tr.AccessToken} {
		if t == "" {
			continue
		}
		p, err := h.cfg.Verifier.Verify(ctx, t)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if n, ok := p.Claims["nonce"]; ok && n != st.Nonce {
			why = append(why, "the token's nonce does not match this login")
			continue
		}
		return t, nil
	}
	if len(why) == 0 {
		return "", errors.New("the identity provider returned no token")
	}
	return "", errors.New("no token from the identity provider is valid for this registry: " + strings.Join(why, "; "))
}
