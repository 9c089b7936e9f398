package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// CORSConfig says which other origins browsers may read Vetted from (issue 13 item 4).
//
// Anonymous reads (GET and HEAD, without credentials, of operations anyone may call or that
// need only the read permission: the v0.1 read API, version, health, ping, the OpenAPI
// document) are open to AllowedOrigins, "*" by default, as upstream's are. Anything else —
// a request that carries credentials (Authorization, cookies) or that changes state (publish,
// review, admin) — is allowed cross-origin only from CredentialedOrigins, none by default.
type CORSConfig struct {
	// AllowedOrigins may make anonymous reads: "*" or exact origins
	// ("https://catalog.example"). Empty: no cross-origin reads.
	AllowedOrigins []string
	// CredentialedOrigins may make authenticated or state-changing requests, with
	// credentials. Exact origins only ("*" is refused).
	CredentialedOrigins []string
}

// DefaultCORS is upstream's policy for the read API: any origin may read anonymously.
func DefaultCORS() CORSConfig { return CORSConfig{AllowedOrigins: []string{"*"}} }

// corsMaxAge is how long browsers may cache a preflight answer (upstream's 24 hours).
const corsMaxAge = "86400"

// Validate checks the origins' shape.
func (c CORSConfig) Validate() error {
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("cors: allowed_origins: %w", err)
		}
	}
	for _, o := range c.CredentialedOrigins {
		if o == "*" {
			return errors.New(`cors: credentialed_origins: "*" is not allowed: name each origin that may send credentials`)
		}
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("cors: credentialed_origins: %w", err)
		}
	}
	return nil
}

// checkOrigin accepts scheme://host[:port], lower-case, without path.
func checkOrigin(o string) error {
	scheme, rest, ok := strings.Cut(o, "://")
	switch {
	case !ok || (scheme != "https" && scheme != "http"):
		return fmt.Errorf("origin %q: want http(s)://host[:port]", o)
	case rest == "" || strings.ContainsAny(rest, "/?#@ \t") || strings.ToLower(o) != o:
		return fmt.Errorf("origin %q: want a lower-case http(s)://host[:port] without path", o)
	}
	return nil
}

// WithCORS sets the cross-origin policy (default DefaultCORS).
func WithCORS(c CORSConfig) Option {
	return func(o *options) error {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("api: %w", err)
		}
		o.cors = c
		return nil
	}
}

// cors applies a CORSConfig in front of everything else (authentication included: a preflight
// carries no credentials).
type cors struct {
	cfg    CORSConfig
	public *http.ServeMux // GET patterns of the operations an anonymous browser may read
	api    huma.API
}

// newCORS collects the anonymous GET operations of api.
func newCORS(cfg CORSConfig, api huma.API) *cors {
	c := &cors{cfg: cfg, public: http.NewServeMux(), api: api}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for path, item := range api.OpenAPI().Paths {
		if item.Get == nil {
			continue
		}
		if p, _ := OperationPermission(item.Get); p == PermNone || p == PermRead {
			c.public.Handle("GET "+path, ok) // GET patterns match HEAD too
		}
	}
	for _, p := range []string{"/openapi.json", "/openapi.yaml"} {
		c.public.Handle("GET "+p, ok)
	}
	return c
}

// isPublic reports whether method path is an anonymous read.
func (c *cors) isPublic(method string, r *http.Request) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	probe := r.Clone(r.Context())
	probe.Method = method
	_, pattern := c.public.Handler(probe)
	return pattern != ""
}

func (c *cors) readAllowed(origin string) bool {
	return slices.Contains(c.cfg.AllowedOrigins, "*") || slices.Contains(c.cfg.AllowedOrigins, origin)
}

func (c *cors) credentialed(origin string) bool {
	return slices.Contains(c.cfg.CredentialedOrigins, origin)
}

// carriesCredentials reports whether r (or, for a preflight, the request it announces)
// carries credentials.
func carriesCredentials(r *http.Request, preflight bool) bool {
	if !preflight {
		return r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != ""
	}
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(h)) {
			case "authorization", "cookie":
				return true
			}
		}
	}
	return false
}

func (c *cors) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		reqMethod := r.Header.Get("Access-Control-Request-Method")
		preflight := r.Method == http.MethodOptions && reqMethod != ""
		method := r.Method
		if preflight {
			method = reqMethod
		}
		switch {
		case c.credentialed(origin):
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			if preflight {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
				c.allowHeaders(h, r)
			}
		case !carriesCredentials(r, preflight) && c.isPublic(method, r) && c.readAllowed(origin):
			if slices.Contains(c.cfg.AllowedOrigins, "*") {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			if preflight {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD")
				c.allowHeaders(h, r)
			}
		default:
			if preflight {
				ctx := humago.NewContext(&huma.Operation{}, r, w)
				_ = huma.WriteErr(c.api, ctx, http.StatusForbidden, fmt.Sprintf(
					"cross-origin %s %s from %s is not allowed (CORS): only anonymous GET and HEAD "+
						"of the read API are open to other origins; list the origin under "+
						"cors.credentialed_origins to allow more", method, r.URL.Path, origin))
				return
			}
			// An actual request from an origin not allowed: served (authorization still
			// applies) without CORS headers, so the browser withholds the answer.
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Expose-Headers", "Content-Type, Content-Length, ETag")
		if preflight {
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowHeaders echoes the request headers a preflight asks for.
func (c *cors) allowHeaders(h http.Header, r *http.Request) {
	if v := strings.Join(r.Header.Values("Access-Control-Request-Headers"), ", "); v != "" {
		h.Set("Access-Control-Allow-Headers", v)
	}
}
