package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// Operation IDs of the read API, suffixed with the prefix as the official registry does
// ("list-servers-v0.1", "list-servers-v0").
const (
	opListServers       = "list-servers"
	opGetServerVersions = "get-server-versions"
	opGetServerVersion  = "get-server-version"
)

const (
	defaultLimit    = 30
	maxLimit        = 100
	maxSearchLength = 200
)

type listServersInput struct {
	Cursor       string `query:"cursor" maxLength:"1024" doc:"Pagination cursor: the metadata.nextCursor of the previous page, passed back unchanged (opaque)."`
	Limit        int    `query:"limit" default:"30" minimum:"1" maximum:"100" doc:"Number of items per page" example:"50"`
	Search       string `query:"search" maxLength:"200" doc:"Search servers by name (case-insensitive substring match)" example:"filesystem"`
	UpdatedSince string `query:"updated_since" doc:"Only versions updated at or after this time (RFC 3339)" example:"2025-08-07T13:15:04.280Z"`
	Version      string `query:"version" maxLength:"255" doc:"Filter by version: 'latest' for each server's latest version, or an exact version like '1.2.3'" example:"latest"`
	IfNoneMatch  string `header:"If-None-Match" doc:"ETag of a previous response; 304 when unchanged"`
	// IncludeDeleted follows the official registry: default false, but true whenever
	// updated_since is given (an incremental sync must see what stopped being served), and
	// include_deleted=false with updated_since is a 400.
	IncludeDeleted optionalBool `query:"include_deleted" doc:"Also list versions that stopped being served (deprecated, quarantined, deleted), with their status in _meta (default: false, but always true when updated_since is provided)"`
}

type serverVersionsInput struct {
	ServerName     string `path:"serverName" doc:"URL-encoded server name" example:"io.github.acme%2Fweather"`
	IncludeDeleted bool   `query:"include_deleted" default:"false" doc:"Also list versions that stopped being served (deprecated, quarantined, deleted), with their status in _meta"`
	IfNoneMatch    string `header:"If-None-Match" doc:"ETag of a previous response; 304 when unchanged"`
}

type serverVersionInput struct {
	ServerName     string `path:"serverName" doc:"URL-encoded server name" example:"io.github.acme%2Fweather"`
	Version        string `path:"version" doc:"URL-encoded server version, or 'latest'" example:"1.0.0"`
	IncludeDeleted bool   `query:"include_deleted" default:"false" doc:"Also answer for a version that stopped being served (deprecated, quarantined, deleted), with its status in _meta"`
	IfNoneMatch    string `header:"If-None-Match" doc:"ETag of a previous response; 304 when unchanged"`
}

// optionalBool is a boolean query parameter that remembers whether it was given, as the
// official registry's include_deleted does (its default depends on updated_since).
type optionalBool struct {
	Value bool
	IsSet bool
}

// Schema documents the parameter as a plain boolean.
func (o optionalBool) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeOf(o.Value))
}

// Receiver is where huma parses the value into.
func (o *optionalBool) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

// OnParamSet records whether the request carried the parameter.
func (o *optionalBool) OnParamSet(isSet bool, _ any) { o.IsSet = isSet }

// rawOutput writes a cached response body (see serveEntry).
type rawOutput struct {
	Body func(huma.Context)
}

// registerServers registers the read operations on api (a group with one prefix); suffix
// makes the operation IDs unique per prefix.
func registerServers(api huma.API, s *Server, suffix string) {
	reg := api.OpenAPI().Components.Schemas
	listSchema := reg.Schema(reflect.TypeOf(ServerList{}), true, "ServerList")
	oneSchema := reg.Schema(reflect.TypeOf(ServerResponse{}), true, "ServerResponse")

	huma.Register(api, withPermission(huma.Operation{
		OperationID: opListServers + suffix,
		Method:      http.MethodGet,
		Path:        "/servers",
		Summary:     "List MCP servers",
		Description: "A page of published server versions, ordered by name then version. " +
			"Pass metadata.nextCursor back as cursor for the next page.",
		Tags:      []string{"servers"},
		Responses: okResponses(listSchema, "A page of server versions"),
		Errors:    []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, PermRead), func(ctx context.Context, in *listServersInput) (*rawOutput, error) {
		e, err := s.listPage(ctx, listParams{
			cursor: in.Cursor, limit: in.Limit, search: in.Search,
			updatedSince: in.UpdatedSince, version: in.Version,
			includeDeleted: in.IncludeDeleted.Value, includeDeletedSet: in.IncludeDeleted.IsSet,
		})
		if err != nil {
			return nil, problem(s.log, err)
		}
		return &rawOutput{Body: func(c huma.Context) { serveEntry(c, e) }}, nil
	})

	huma.Register(api, withPermission(huma.Operation{
		OperationID: opGetServerVersions + suffix,
		Method:      http.MethodGet,
		Path:        "/servers/{serverName}/versions",
		Summary:     "Get all versions of an MCP server",
		Description: "Every published version of one server, newest first. With include_deleted=true, " +
			"also the versions that stopped being served, each with its status in _meta.",
		Tags:      []string{"servers"},
		Responses: okResponses(listSchema, "The server's published versions"),
		Errors:    []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable},
	}, PermRead), func(ctx context.Context, in *serverVersionsInput) (*rawOutput, error) {
		name, err := pathName(in.ServerName)
		if err != nil {
			return nil, problem(s.log, err)
		}
		e, err := s.serverVersions(ctx, name, in.IncludeDeleted)
		if err != nil {
			return nil, problem(s.log, err)
		}
		return &rawOutput{Body: func(c huma.Context) { serveEntry(c, e) }}, nil
	})

	huma.Register(api, withPermission(huma.Operation{
		OperationID: opGetServerVersion + suffix,
		Method:      http.MethodGet,
		Path:        "/servers/{serverName}/versions/{version}",
		Summary:     "Get specific MCP server version",
		Description: "One published version of a server. The special version 'latest' is the " +
			"greatest by semantic versioning (publish time decides among non-semver versions). " +
			"With include_deleted=true, a version that stopped being served is answered too, with its status in _meta.",
		Tags:      []string{"servers"},
		Responses: okResponses(oneSchema, "The server version"),
		Errors:    []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable},
	}, PermRead), func(ctx context.Context, in *serverVersionInput) (*rawOutput, error) {
		name, err := pathName(in.ServerName)
		if err != nil {
			return nil, problem(s.log, err)
		}
		version, err := pathVersion(in.Version)
		if err != nil {
			return nil, problem(s.log, err)
		}
		e, err := s.version(ctx, name, version, in.IncludeDeleted)
		if err != nil {
			return nil, problem(s.log, err)
		}
		return &rawOutput{Body: func(c huma.Context) { serveEntry(c, e) }}, nil
	})
}

// okResponses documents a 200 carrying schema with an ETag, and the 304 for If-None-Match.
func okResponses(schema *huma.Schema, desc string) map[string]*huma.Response {
	return map[string]*huma.Response{
		"200": {
			Description: desc,
			Headers: map[string]*huma.Param{
				"ETag": {Description: "Strong entity tag of this response", Schema: &huma.Schema{Type: "string"}},
			},
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}},
		},
		"304": {Description: "Not Modified: the If-None-Match entity tag is current"},
	}
}

// pathName validates the serverName path segment. The router has unescaped it once, which
// is all: "io.github.acme%2Fweather" names io.github.acme/weather, while
// "io.github.acme%252Fweather" names a server with a "%" in it, which is invalid (the
// official registry unescapes a second time; decoding exactly once leaves no second
// spelling of a name for caches, logs and authorization to disagree on).
func pathName(raw string) (string, error) {
	if err := validateName(raw); err != nil {
		return "", badParam("path.serverName", raw, "%v", err)
	}
	return raw, nil
}

// pathVersion validates the version path segment, unescaped once by the router.
func pathVersion(raw string) (string, error) {
	if err := validateVersion(raw); err != nil {
		return "", badParam("path.version", raw, "%v", err)
	}
	return raw, nil
}

// version returns the response for one published version of name ("latest" for the latest);
// with deleted, also for a version that was served once (see registry.ListedStatuses).
// "latest" is always the latest published version.
func (s *Server) version(ctx context.Context, name, version string, deleted bool) (*entry, error) {
	g, err := s.cache.current(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	k := verKey{name: name, version: version, deleted: deleted}
	if version == "latest" {
		k = verKey{name: name, latest: true}
	}
	if e := g.version(k); e != nil {
		s.metrics.cacheCount("version", true)
		return e, nil
	}
	s.metrics.cacheCount("version", false)
	key := fmt.Sprintf("v\x00%d\x00%q\x00%q\x00%t\x00%t", g.seq, k.name, k.version, k.latest, k.deleted)
	return s.cache.fill(ctx, key, func(ctx context.Context) (*entry, error) {
		var v registry.Version
		var err error
		if k.latest {
			v, err = s.store.LatestPublished(ctx, name)
			if err != nil {
				return nil, notFound(err, "server %q", name)
			}
		} else {
			v, err = s.store.GetVersion(ctx, registry.Key{Name: name, Version: version})
			if err == nil && !visible(v.Status, deleted) {
				err = registry.ErrNotFound
			}
			if err != nil {
				return nil, notFound(err, "version %q of server %q", version, name)
			}
		}
		if err := s.checkSealed(ctx, v); err != nil {
			return nil, err
		}
		return renderVersion(v)
	}, func(e *entry) { s.cache.putVersion(g, k, e) })
}

// serverVersions returns the response listing every published version of name, newest
// first; with deleted, also the versions that were served once.
func (s *Server) serverVersions(ctx context.Context, name string, deleted bool) (*entry, error) {
	g, err := s.cache.current(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	sk := serverKey{name: name, deleted: deleted}
	if e := g.server(sk); e != nil {
		s.metrics.cacheCount("server", true)
		return e, nil
	}
	s.metrics.cacheCount("server", false)
	key := fmt.Sprintf("s\x00%d\x00%q\x00%t", g.seq, name, deleted)
	return s.cache.fill(ctx, key, func(ctx context.Context) (*entry, error) {
		vs, err := s.store.ListServerVersions(ctx, name, listedStatuses(deleted)...)
		if err != nil {
			return nil, notFound(err, "server %q", name)
		}
		if len(vs) == 0 {
			return nil, &notFoundError{what: fmt.Sprintf("server %q", name)}
		}
		if err := s.checkSealed(ctx, vs...); err != nil {
			return nil, err
		}
		slices.Reverse(vs)
		return renderList(vs, "")
	}, func(e *entry) { s.cache.putServer(g, sk, e) })
}

// listPage returns the response for one page of the server list. k holds the raw query
// parameters (limit already range-checked by huma); they are validated here.
func (s *Server) listPage(ctx context.Context, p listParams) (*entry, error) {
	q, err := listQuery(p)
	if err != nil {
		return nil, err
	}
	k := listKeyOf(q)
	g, err := s.cache.current(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	if e := g.list(k); e != nil {
		s.metrics.cacheCount("list", true)
		return e, nil
	}
	s.metrics.cacheCount("list", false)
	key := fmt.Sprintf("l\x00%d\x00%#v", g.seq, k)
	return s.cache.fill(ctx, key, func(ctx context.Context) (*entry, error) {
		q.Serving = true // only rendered: the stored server.json stays in the database
		page, more, err := s.store.ListVersionsPage(ctx, q)
		if err != nil {
			return nil, err
		}
		if err := s.checkSealed(ctx, page...); err != nil {
			return nil, err
		}
		cursor := ""
		if more && len(page) > 0 {
			cursor = encodeCursor(page[len(page)-1].Key())
		}
		return renderList(page, cursor)
	}, func(e *entry) { s.cache.putList(g, k, e) })
}

// listQuery validates the raw list parameters.
func listQuery(k listParams) (q registry.ListQuery, err error) {
	if k.limit < 1 || k.limit > maxLimit {
		return q, badParam("query.limit", k.limit, "must be between 1 and %d", maxLimit)
	}
	q.Limit = k.limit
	if k.cursor != "" {
		after, err := decodeCursor(k.cursor)
		if err != nil {
			return q, badParam("query.cursor", k.cursor, "%v", err)
		}
		q.After = &after
	}
	if len(k.search) > maxSearchLength {
		return q, badParam("query.search", k.search, "longer than %d characters", maxSearchLength)
	}
	q.Search = k.search
	if k.updatedSince != "" {
		t, err := time.Parse(time.RFC3339, k.updatedSince)
		if err != nil {
			return q, badParam("query.updated_since", k.updatedSince,
				"expected an RFC 3339 timestamp such as 2025-08-07T13:15:04.280Z")
		}
		q.UpdatedSince = t.UTC()
		// As upstream: an incremental sync must see what stopped being served.
		if k.includeDeletedSet && !k.includeDeleted {
			return q, badParam("query.include_deleted", false,
				"cannot be false with updated_since: an incremental sync must see versions that stopped being served")
		}
		k.includeDeleted = true
	}
	q.Statuses = listedStatuses(k.includeDeleted)
	switch {
	case k.version == "":
	case k.version == "latest":
		q.LatestOnly = true
	default:
		if err := validateVersion(k.version); err != nil {
			return q, badParam("query.version", k.version, "%v", err)
		}
		q.Version = k.version
	}
	return q, nil
}

// checkSealed checks each version against the audit event that created it, once per cache
// fill: a row edited behind the registry's back is never served. Each failure is an alert.
func (s *Server) checkSealed(ctx context.Context, vs ...registry.Version) error {
	for _, v := range vs {
		err := registry.CheckSealed(v)
		if errors.Is(err, registry.ErrNeedsServerJSON) {
			err = s.checkWhole(ctx, v)
		}
		if err != nil {
			s.metrics.integrity.Inc()
			s.log.Error("ALERT: a stored version does not match the audit event that created it; refusing to serve it",
				slog.Bool("alert", true), slog.String("server", v.Name), slog.String("version", v.Version), slog.String(logKeyError, err.Error()))
			return err
		}
	}
	return nil
}

// checkWhole checks v, read without its stored server.json (ListQuery.Serving), on the
// whole row: v's seal predates served digests, so what it served is recomputed from the
// stored document. The whole row must be the one v was read from.
func (s *Server) checkWhole(ctx context.Context, v registry.Version) error {
	whole, err := s.store.GetVersion(ctx, v.Key())
	if err != nil {
		return fmt.Errorf("reading %s@%s whole for its integrity check: %w", v.Name, v.Version, err)
	}
	if whole.Sealed == nil || v.Sealed == nil || whole.Sealed.Seq != v.Sealed.Seq ||
		!bytes.Equal(registry.ServedBytes(whole), registry.ServedBytes(v)) || whole.ContentDigest != v.ContentDigest {
		return &registry.IntegrityError{Key: v.Key(), Reason: "the version changed between two reads of its integrity check"}
	}
	err = registry.CheckSealed(whole)
	if errors.Is(err, registry.ErrNeedsServerJSON) {
		return &registry.IntegrityError{Key: v.Key(), Seq: whole.Sealed.Seq, Reason: "no stored server.json to check against its audit event"}
	}
	return err
}

// listedStatuses is what a read shows: published versions, and with deleted every version
// that was once served.
func listedStatuses(deleted bool) []registry.Status {
	if deleted {
		return registry.ListedStatuses
	}
	return nil // published only
}

// visible reports whether a version in status st is answered (see listedStatuses).
func visible(st registry.Status, deleted bool) bool {
	if st == registry.StatusPublished {
		return true
	}
	return deleted && slices.Contains(registry.ListedStatuses, st)
}

func unavailable(err error) error {
	return fmt.Errorf("checking the store for changes: %w: %w", errUnavailable, err)
}
