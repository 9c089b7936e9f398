package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
)

// Title and version of the OpenAPI document.
const (
	apiTitle   = "Vetted MCP Registry API"
	apiVersion = "0.1"
)

// Defaults.
const (
	DefaultChangeCheckInterval = 200 * time.Millisecond
	DefaultCacheBytes          = 256 << 20
)

// Server is Vetted's HTTP API. Its Handler serves the read API under /v0.1 and /v0,
// /healthz, /readyz, /metrics, /openapi.json, /openapi.yaml and /docs.
type Server struct {
	store        registry.Store
	log          *slog.Logger
	cache        *cache
	api          huma.API
	mux          *http.ServeMux
	handler      http.Handler
	metrics      *metrics
	fast         *fastRoutes
	publish      *PublishConfig         // nil: publishing disabled (see publish.go)
	pubDecisions *prometheus.CounterVec // publishes by decision (publish.go)
	review       *ReviewConfig          // nil: the security team's API is off (review.go)
	flushKeys    func() []string        // nil: no issuer key caches to flush (admin_keys.go)
	exchange     *TokenExchangeConfig   // nil: token exchange answers 403 (exchange.go)
}

// Option configures a Server.
type Option func(*options) error

type options struct {
	logger        *slog.Logger
	httpMW        []func(http.Handler) http.Handler
	humaMW        []func(huma.Context, func(huma.Context))
	checkInterval time.Duration
	cacheBytes    int
	fastPath      bool
	publish       *PublishConfig
	review        *ReviewConfig
	flushKeys     func() []string
	cors          CORSConfig
	collectors    []prometheus.Collector // WithCollectors
	exchange      *TokenExchangeConfig
}

func defaultOptions() options {
	return options{
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		checkInterval: DefaultChangeCheckInterval,
		cacheBytes:    DefaultCacheBytes,
		fastPath:      true,
		cors:          DefaultCORS(),
	}
}

func (o *options) validate() error {
	if o.checkInterval <= 0 || o.checkInterval > time.Minute {
		return fmt.Errorf("api: change check interval %v out of range (0, 1m]", o.checkInterval)
	}
	if o.cacheBytes < 0 {
		return fmt.Errorf("api: negative cache size %d", o.cacheBytes)
	}
	return nil
}

// WithLogger logs to l (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("api: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithHTTPMiddleware wraps every request (API, health, metrics, docs) in mw, inside the
// metrics middleware. Middlewares given first run first.
func WithHTTPMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(o *options) error {
		if mw == nil {
			return errors.New("api: nil HTTP middleware")
		}
		o.httpMW = append(o.httpMW, mw)
		return nil
	}
}

// WithHumaMiddleware adds an API-wide huma middleware. It runs for every huma operation,
// including the hot read operations served from the cache, and may read the operation's
// Permission with OperationPermission(ctx.Operation()).
func WithHumaMiddleware(mw func(huma.Context, func(huma.Context))) Option {
	return func(o *options) error {
		if mw == nil {
			return errors.New("api: nil huma middleware")
		}
		o.humaMW = append(o.humaMW, mw)
		return nil
	}
}

// WithChangeCheckInterval sets how often, at most, the cache asks the store whether
// anything changed (default 200ms). It bounds how long a quarantined version can still be
// served by this process.
func WithChangeCheckInterval(d time.Duration) Option {
	return func(o *options) error { o.checkInterval = d; return nil }
}

// WithCacheBytes bounds the response cache (default 256 MiB; 0 disables caching).
func WithCacheBytes(n int) Option {
	return func(o *options) error { o.cacheBytes = n; return nil }
}

// withoutFastPath serves everything through huma (tests compare both paths).
func withoutFastPath() Option {
	return func(o *options) error { o.fastPath = false; return nil }
}

// New returns a Server reading from store.
func New(store registry.Store, opts ...Option) (*Server, error) {
	if store == nil {
		return nil, errors.New("api: nil store")
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		store:   store,
		log:     o.logger,
		cache:   newCache(store, o.checkInterval, o.cacheBytes),
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
	}
	s.cache.onNewGen = s.metrics.generations.Inc
	for _, c := range o.collectors {
		if err := s.metrics.reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: metrics: %w", err)
		}
	}
	s.api = humago.New(s.mux, humaConfig())
	for _, mw := range o.humaMW {
		s.api.UseMiddleware(mw)
	}
	registerHealth(s.api, s)
	for _, prefix := range []string{"/v0.1", "/v0"} {
		registerServers(huma.NewGroup(s.api, prefix), s, "-"+prefix[1:])
		registerPublish(huma.NewGroup(s.api, prefix), s, "-"+prefix[1:])
		registerUpstreamMeta(s.api, prefix)
		registerTokenExchange(s.api, s, prefix)
		registerValidate(huma.NewGroup(s.api, prefix), s, "-"+prefix[1:])
		registerStatusRoutes(huma.NewGroup(s.api, prefix), "-"+prefix[1:])
	}
	s.exchange = o.exchange
	s.publish = o.publish
	s.flushKeys = o.flushKeys
	registerExtensions(s.api, s)
	s.review = o.review
	registerReviewAPI(s.api, s)
	s.mux.Handle("GET /metrics", s.metrics.handler())
	s.mux.HandleFunc("/", s.notFound)

	var inner http.Handler = http.HandlerFunc(s.serveInner)
	if o.fastPath {
		s.fast = newFastRoutes(s)
	}
	for i := len(o.httpMW) - 1; i >= 0; i-- {
		inner = o.httpMW[i](inner)
	}
	inner = newCORS(o.cors, s.api).middleware(inner)
	s.handler = s.metrics.middleware(inner)
	return s, nil
}

func init() {
	// huma matches object keys to schema properties case-insensitively by default, so a
	// body with "Name" next to "name" validated and then decoded to either: a document with
	// two meanings (issue 17). Vetted's bodies are matched exactly. (huma offers this only
	// as a package-level setting.)
	huma.ValidateStrictCasing = true
}

func humaConfig() huma.Config {
	cfg := huma.DefaultConfig(apiTitle, apiVersion)
	cfg.Info.Description = "Vetted serves MCP servers only after verifying their signatures, " +
		"SBOM, provenance and tool manifest. The read API is wire-compatible with the official " +
		"MCP registry's v0.1 API; Vetted adds its verification results under " +
		"_meta[\"" + VettedMetaKey + "\"]."
	// No $schema links in responses: the bodies are the official registry's shapes.
	cfg.CreateHooks = nil
	// Every problem document is bounded, on every route (problems.go).
	cfg.Transformers = append(cfg.Transformers, boundProblems)
	if cfg.Components.SecuritySchemes == nil {
		cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	cfg.Components.SecuritySchemes[auth.SecuritySchemeName] = auth.SecurityScheme()
	cfg.OpenAPI.Tags = []*huma.Tag{
		{Name: "servers", Description: "Discover and retrieve published MCP servers"},
		{Name: "health", Description: "Liveness and readiness"},
	}
	return cfg
}

// Handler is the HTTP handler serving the whole API.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP serves r with Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the OpenAPI document describing the operations.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// API returns the huma API, for registering further operations.
func (s *Server) API() huma.API { return s.api }

// Invalidate makes the next request ask the store whether anything changed. Call it after
// writing to the store from this process, so that the change is served at once.
func (s *Server) Invalidate() { s.cache.invalidate() }

// serveInner serves from the response cache when it can, and through huma otherwise.
func (s *Server) serveInner(w http.ResponseWriter, r *http.Request) {
	if s.refuseBadQuery(w, r) {
		setRoute(r, "malformed query")
		return
	}
	if s.fast != nil && s.fast.serve(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
	if r.Pattern != "/" {
		setRoute(r, r.Pattern)
	}
}

// notFound answers paths that match no route with a problem document.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	ctx := humago.NewContext(&huma.Operation{}, r, w)
	msg := "no such endpoint: " + r.URL.Path + "; see /docs for the API"
	if hint := slashHint(r.URL.EscapedPath()); hint != "" {
		msg += "; " + hint
	}
	_ = huma.WriteErr(s.api, ctx, http.StatusNotFound, msg)
}

// slashHint recognizes a server name whose "/" was not URL-encoded in a path
// (/v0.1/servers/io.github.acme/weather/versions) and says how to write it.
func slashHint(path string) string {
	i := strings.Index(path, "/servers/")
	if i < 0 {
		return ""
	}
	parts := strings.SplitN(path[i+len("/servers/"):], "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" || parts[1] == "versions" || strings.Contains(strings.ToLower(parts[0]), "%2f") {
		return ""
	}
	fixed := path[:i] + "/servers/" + parts[0] + "%2F" + parts[1]
	if len(parts) == 3 {
		fixed += "/" + parts[2]
	}
	return fmt.Sprintf("a server name contains \"/\", which must be URL-encoded as %%2F in a path: %s", fixed)
}

// Document returns the OpenAPI document (YAML) of the API.
func Document() ([]byte, error) {
	s, err := New(nopStore{})
	if err != nil {
		return nil, err
	}
	return s.OpenAPI().YAML()
}
