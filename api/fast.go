package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// The fast path serves the hot GETs straight from the response cache, without huma's
// per-request parameter binding. It only ever answers requests whose response is already
// cached (so huma produced it before, for the same parameters); anything else — a miss, an
// unusual encoding, a parameter huma would reject — goes through the mux and huma
// unchanged. It runs the API's huma middlewares (authorization) with the operation that
// huma would have run, so that both paths enforce the same rules.

type fastRoute struct {
	op      *huma.Operation
	pattern string // the mux pattern, for metrics
}

type fastRoutes struct {
	s *Server
	// by prefix ("/v0.1", "/v0"): list, versions, one version
	list, versions, one map[string]fastRoute
	chain               huma.Middlewares
}

func newFastRoutes(s *Server) *fastRoutes {
	f := &fastRoutes{
		s:        s,
		list:     map[string]fastRoute{},
		versions: map[string]fastRoute{},
		one:      map[string]fastRoute{},
		chain:    s.api.Middlewares(),
	}
	paths := s.api.OpenAPI().Paths
	for _, prefix := range []string{"/v0.1", "/v0"} {
		add := func(m map[string]fastRoute, path string) {
			p := prefix + path
			if item, ok := paths[p]; ok && item.Get != nil {
				m[prefix] = fastRoute{op: item.Get, pattern: http.MethodGet + " " + p}
			}
		}
		add(f.list, "/servers")
		add(f.versions, "/servers/{serverName}/versions")
		add(f.one, "/servers/{serverName}/versions/{version}")
	}
	return f
}

// serve answers r from the cache and reports true, or reports false having written nothing.
func (f *fastRoutes) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	// The escaped path as it came on the request line (RawPath when set, else Path
	// re-escaped, which is then the same thing): each segment is unescaped exactly once.
	path := r.URL.EscapedPath()
	var prefix string
	switch {
	case strings.HasPrefix(path, "/v0.1/servers"):
		prefix = "/v0.1"
	case strings.HasPrefix(path, "/v0/servers"):
		prefix = "/v0"
	default:
		return false
	}
	rest := path[len(prefix)+len("/servers"):]
	if rest == "" {
		return f.serveList(w, r, prefix)
	}
	// rest is /{serverName}/versions or /{serverName}/versions/{version}
	segs := strings.Split(rest[1:], "/")
	if rest[0] != '/' || len(segs) < 2 || len(segs) > 3 || segs[1] != "versions" {
		return false
	}
	name, ok := fastSegment(segs[0])
	if !ok || validateName(name) != nil {
		return false
	}
	deleted, _, ok := fastIncludeDeleted(r.URL.RawQuery)
	if !ok {
		return false
	}
	g := f.current(r)
	if g == nil {
		return false
	}
	if len(segs) == 2 {
		e := g.server(serverKey{name: name, deleted: deleted})
		return e != nil && f.hit("server") && f.run(w, r, f.versions[prefix], e)
	}
	version, ok := fastSegment(segs[2])
	if !ok || validateVersion(version) != nil {
		return false
	}
	k := verKey{name: name, version: version, deleted: deleted}
	if version == "latest" {
		k = verKey{name: name, latest: true}
	}
	e := g.version(k)
	return e != nil && f.hit("version") && f.run(w, r, f.one[prefix], e)
}

func (f *fastRoutes) serveList(w http.ResponseWriter, r *http.Request, prefix string) bool {
	k := listParams{limit: defaultLimit}
	if raw := r.URL.RawQuery; raw != "" {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return false
		}
		for name, vals := range q {
			var dst *string
			switch name {
			case "cursor":
				dst = &k.cursor
			case "search":
				dst = &k.search
			case "updated_since":
				dst = &k.updatedSince
			case "version":
				dst = &k.version
			case "include_deleted":
				if len(vals) != 1 {
					return false
				}
				b, ok := canonicalBool(vals[0])
				if !ok {
					return false
				}
				k.includeDeleted, k.includeDeletedSet = b, true
				continue
			case "limit":
				if len(vals) != 1 {
					return false
				}
				n, ok := canonicalLimit(vals[0])
				if !ok {
					return false
				}
				k.limit = n
				continue
			default:
				continue // huma ignores unknown parameters too
			}
			if len(vals) != 1 || vals[0] == "" {
				return false
			}
			*dst = vals[0]
		}
	}
	q, err := listQuery(k)
	if err != nil {
		return false
	}
	g := f.current(r)
	if g == nil {
		return false
	}
	e := g.list(listKeyOf(q))
	return e != nil && f.hit("list") && f.run(w, r, f.list[prefix], e)
}

// hit counts a cache hit of kind and reports true.
func (f *fastRoutes) hit(kind string) bool {
	f.s.metrics.cacheCount(kind, true)
	return true
}

// current returns the fresh generation, or nil when the store cannot say (huma then
// answers, with the error).
func (f *fastRoutes) current(r *http.Request) *generation {
	g, err := f.s.cache.current(r.Context())
	if err != nil {
		return nil
	}
	return g
}

// run serves e for route through the huma middlewares.
func (f *fastRoutes) run(w http.ResponseWriter, r *http.Request, route fastRoute, e *entry) bool {
	if route.op == nil {
		return false
	}
	setRoute(r, route.pattern)
	ctx := humago.NewContext(route.op, r, w)
	end := func(c huma.Context) { serveEntry(c, e) }
	if len(f.chain) == 0 && len(route.op.Middlewares) == 0 {
		end(ctx)
		return true
	}
	f.chain.Handler(route.op.Middlewares.Handler(end))(ctx)
	return true
}

// fastSegment unescapes a path segment exactly once, as the mux does for the handler, and
// refuses the dot segments that the mux would redirect.
func fastSegment(seg string) (string, bool) {
	if seg == "" || seg == "." || seg == ".." {
		return "", false
	}
	once, err := url.PathUnescape(seg)
	if err != nil || once == "." || once == ".." {
		return "", false
	}
	return once, true
}

// fastIncludeDeleted reads include_deleted from a raw query the way huma would, for the
// canonical spellings only ("true", "false", absent); ok is false for anything else (huma
// then answers). Other parameters are ignored, as huma ignores them.
func fastIncludeDeleted(raw string) (value, set, ok bool) {
	if raw == "" {
		return false, false, true
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false, false, false
	}
	vals, present := q["include_deleted"]
	if !present {
		return false, false, true
	}
	if len(vals) != 1 {
		return false, false, false
	}
	b, ok := canonicalBool(vals[0])
	return b, true, ok
}

// canonicalBool accepts only "true" and "false".
func canonicalBool(s string) (bool, bool) {
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// canonicalLimit accepts only "1".."100" without signs or leading zeros.
func canonicalLimit(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if n < 1 || n > maxLimit {
		return 0, false
	}
	return n, true
}

// serveEntry writes a cached response, or 304 when If-None-Match names its ETag.
func serveEntry(c huma.Context, e *entry) {
	c.SetHeader("ETag", e.etag)
	if inm := c.Header("If-None-Match"); inm != "" && etagMatches(inm, e.etag) {
		c.SetStatus(http.StatusNotModified)
		return
	}
	c.SetHeader("Content-Type", "application/json")
	c.SetHeader("Content-Length", itoa(len(e.body)))
	c.SetStatus(http.StatusOK)
	_, _ = c.BodyWriter().Write(e.body)
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 §13.1.2) against a strong
// tag: "*" or any listed tag, with or without W/, equal to etag.
func etagMatches(header, etag string) bool {
	for header != "" {
		header = strings.TrimLeft(header, " \t,")
		if header == "" {
			return false
		}
		if header[0] == '*' {
			return true
		}
		header = strings.TrimPrefix(header, "W/")
		if header == "" || header[0] != '"' {
			return false
		}
		end := strings.IndexByte(header[1:], '"')
		if end < 0 {
			return false
		}
		if header[:end+2] == etag {
			return true
		}
		header = header[end+2:]
	}
	return false
}
