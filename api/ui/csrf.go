package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the CSRF key's file in the data directory.
const KeyFile = "ui-csrf.key"

// LoadOrCreateKey returns the CSRF key kept in dataDir, creating it (32 random bytes, mode
// 0600) on first use. Every replica sharing the data directory shares the key.
func LoadOrCreateKey(dataDir string) ([]byte, error) {
	p := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if len(b) < 32 {
			return nil, fmt.Errorf("ui: %s is %d bytes, want at least 32", p, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ui: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKey(dataDir) // another process created it first
		}
		return nil, fmt.Errorf("ui: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("ui: %w", err)
	}
	return key, f.Close()
}

// csrfToken is the double-submit token of a cookie value: the HMAC of the value under the
// key, so that a page can only carry it if it was rendered for the holder of the cookie.
func csrfToken(key []byte, purpose, cookie string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("vetted-ui-csrf\x00" + purpose + "\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkRequestOrigin refuses requests that a browser says come from another site. An
// Origin must match this registry's scheme and host: http://vetted.example.com is another
// origin than https://vetted.example.com (a plain-HTTP page on the same name, which a
// network attacker can serve, must not post to the HTTPS one).
func (h *Handler) checkRequestOrigin(r *http.Request) error {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return fmt.Errorf("cross-site request refused (Sec-Fetch-Site: %s)", s)
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	wantScheme, wantHost, _ := parseOrigin(h.cfg.Origin)
	if h.cfg.Origin == "" {
		wantScheme, wantHost = "http", strings.ToLower(r.Host)
		if r.TLS != nil {
			wantScheme = "https"
		}
		wantHost = stripDefaultPort(wantScheme, wantHost)
	}
	scheme, host, err := parseOrigin(o)
	if err != nil || scheme != wantScheme || host != wantHost {
		return fmt.Errorf("cross-origin request refused (Origin %q is not this registry, %s://%s)", o, wantScheme, wantHost)
	}
	return nil
}

// parseOrigin returns the lower-case scheme and host (without a default port) of an origin.
func parseOrigin(o string) (scheme, host string, err error) {
	if o == "null" {
		return "", "", errors.New("opaque origin")
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("origin %q: want http(s)://host[:port]", o)
	}
	scheme = strings.ToLower(u.Scheme)
	return scheme, stripDefaultPort(scheme, strings.ToLower(u.Host)), nil
}

func stripDefaultPort(scheme, host string) string {
	if h, p, err := net.SplitHostPort(host); err == nil && ((scheme == "https" && p == "443") || (scheme == "http" && p == "80")) {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// checkCSRF checks the request's origin and its form's csrf field against want.
func (h *Handler) checkCSRF(r *http.Request, want string) error {
	if err := h.checkRequestOrigin(r); err != nil {
		return err
	}
	got := r.PostFormValue("csrf")
	if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return errors.New("the form's CSRF token is missing or does not match your sign-in; reload the page and try again")
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
