package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestEmptyListIsUpstreamShape(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			h := newServer(t, sf.new(t))
			for _, path := range []string{"/v0.1/servers", "/v0/servers", "/v0.1/servers?limit=5"} {
				for i := 0; i < 2; i++ { // miss, then hit (fast path)
					r := get(t, h, path)
					if r.code != http.StatusOK || r.body != "{\"servers\":[],\"metadata\":{\"count\":0}}\n" {
						t.Fatalf("GET %s #%d = %d %q", path, i, r.code, r.body)
					}
					if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type = %q", ct)
					}
				}
			}
		})
	}
}

func TestReadAPI(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t)
			seed(t, st,
				"io.github.acme/weather@1.0.0",
				"io.github.acme/weather@1.10.0",
				"io.github.acme/weather@1.9.0", // published after 1.10.0 but lower semver
				"io.github.acme/weather@2.0.0:pending_review",
				"io.github.acme/weather@1.11.0:quarantined",
				"io.github.acme/tides@nightly",
				"io.github.acme/tides@nightly-2", // non-semver: later publish wins
				"com.example/Search-Tool@0.1.0",
				"com.example/hidden@1.0.0:rejected",
			)
			for _, fast := range []bool{true, false} {
				var opts []Option
				if !fast {
					opts = append(opts, withoutFastPath())
				}
				h := newServer(t, st, opts...)
				for pass := 0; pass < 2; pass++ { // the second pass is served from the cache
					checkReadAPI(t, h)
				}
			}
		})
	}
}

func checkReadAPI(t *testing.T, h http.Handler) {
	t.Helper()
	all := []string{
		"com.example/Search-Tool@0.1.0",
		"io.github.acme/tides@nightly",
		"io.github.acme/tides@nightly-2",
		"io.github.acme/weather@1.0.0",
		"io.github.acme/weather@1.10.0",
		"io.github.acme/weather@1.9.0",
	}
	listCases := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"?limit=100", all},
		{"?version=latest", []string{"com.example/Search-Tool@0.1.0", "io.github.acme/tides@nightly-2", "io.github.acme/weather@1.10.0"}},
		{"?search=WEATHER", all[3:]},
		{"?search=search-tool", all[:1]},
		{"?search=nothing-like-this", nil},
		{"?search=_", nil}, // no wildcard expansion
		{"?version=1.0.0", []string{"io.github.acme/weather@1.0.0"}},
		{"?updated_since=2026-01-02T03:09:05Z", []string{"io.github.acme/tides@nightly", "io.github.acme/tides@nightly-2", "com.example/Search-Tool@0.1.0"}},
	}
	for _, c := range listCases {
		for _, prefix := range []string{"/v0.1", "/v0"} {
			r := get(t, h, prefix+"/servers"+c.query)
			if r.code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.query, r.code, r.body)
			}
			got := names(decodeList(t, r.body))
			if c.query == "?updated_since=2026-01-02T03:09:05Z" {
				sortStrings(c.want)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("GET %s%s = %v, want %v", prefix, c.query, got, c.want)
			}
		}
	}

	// Walk with limit=2.
	var walked []string
	cursor := ""
	for i := 0; i < 10; i++ {
		q := "/v0.1/servers?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := get(t, h, q)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", q, r.code, r.body)
		}
		l := decodeList(t, r.body)
		if l.Metadata.Count != len(l.Servers) {
			t.Errorf("count %d for %d servers", l.Metadata.Count, len(l.Servers))
		}
		walked = append(walked, names(l)...)
		cursor = l.Metadata.NextCursor
		if cursor == "" {
			break
		}
	}
	if !reflect.DeepEqual(walked, all) {
		t.Errorf("walk = %v, want %v", walked, all)
	}

	// One version, latest, and the official _meta.
	r := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest")
	if r.code != http.StatusOK {
		t.Fatalf("latest: %d %s", r.code, r.body)
	}
	one := decodeOne(t, r.body)
	if one.Server.Version != "1.10.0" || one.Meta.Official == nil || !one.Meta.Official.IsLatest ||
		one.Meta.Official.Status != "active" || one.Meta.Official.PublishedAt.IsZero() {
		t.Errorf("latest = %+v %+v", one.Server, one.Meta.Official)
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["server"]["_meta"]; !ok {
		t.Errorf("the server's own _meta was dropped: %s", r.body)
	}
	r = get(t, h, "/v0/servers/io.github.acme%2Ftides/versions/latest")
	if one := decodeOne(t, r.body); one.Server.Version != "nightly-2" {
		t.Errorf("non-semver latest = %q", one.Server.Version)
	}
	r = get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/1.9.0")
	if one := decodeOne(t, r.body); r.code != 200 || one.Server.Version != "1.9.0" || one.Meta.Official.IsLatest {
		t.Errorf("1.9.0: %d %s", r.code, r.body)
	}

	// All versions, newest first, published only.
	r = get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions")
	if got, want := names(decodeList(t, r.body)), []string{"io.github.acme/weather@1.9.0", "io.github.acme/weather@1.10.0", "io.github.acme/weather@1.0.0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("versions = %v, want %v", got, want)
	}

	// Errors: status, and the field or thing named in the detail.
	errCases := []struct {
		path   string
		status int
		detail string
	}{
		{"/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0", 404, `version "2.0.0" of server "io.github.acme/weather" not found`},
		{"/v0.1/servers/io.github.acme%2Fweather/versions/1.11.0", 404, `version "1.11.0"`},
		{"/v0.1/servers/com.example%2Fhidden/versions/latest", 404, `server "com.example/hidden" not found`},
		{"/v0.1/servers/com.example%2Fhidden/versions", 404, `server "com.example/hidden" not found`},
		{"/v0.1/servers/com.example%2Fnope/versions/1.0.0", 404, "not found"},
		{"/v0.1/servers/no-slash/versions/latest", 400, "path.serverName"},
		{"/v0.1/servers/a%2Fb%2Fc/versions/latest", 400, "path.serverName"},
		{"/v0.1/servers/bad%25zz/versions", 400, "path.serverName"},
		{"/v0.1/servers/a.b%2Fc/versions/%01", 400, "path.version"},
		// Path segments are unescaped exactly once (issue 17 item 9): a doubly or triply
		// encoded slash is a "%" in the name, not a second spelling of it.
		{"/v0.1/servers/io.github.acme%252Fweather/versions/latest", 400, "path.serverName"},
		{"/v0.1/servers/io.github.acme%25252Fweather/versions/latest", 400, "path.serverName"},
		{"/v0.1/servers/io.github.acme%25252Fweather/versions", 400, "path.serverName"},
		{"/v0/servers/io.github.acme%25252Fweather/versions/1.0.0", 400, "path.serverName"},
		{"/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0%2500", 404, `version "1.0.0%00"`},
		{"/v0.1/servers?cursor=%21%21", 400, "query.cursor"},
		// A malformed query string is refused, naming the parameter, not served as if the
		// parameter were absent (issue 17 item 9).
		{"/v0.1/servers?cursor=%%%", 400, "query.cursor"},
		{"/v0.1/servers?limit=%zz", 400, "query.limit"},
		{"/v0.1/servers?limit=5&search=%", 400, "query.search"},
		{"/v0.1/servers?li%zzmit=5", 400, "parameter name"},
		{"/v0.1/servers?limit=5;search=x", 400, "query.limit"},
		{"/v0.1/servers/io.github.acme%2Fweather/versions?cursor=%%%", 400, "query.cursor"},
		{"/v0.1/servers/io.github.acme%2Fweather/versions/latest?x=%g0", 400, "query.x"},
		{"/v0.1/servers?cursor=" + encodeCursor(keyOf("x", "1")), 400, "query.cursor"},
		{"/v0.1/servers?limit=0", 422, "limit"},
		{"/v0.1/servers?limit=101", 422, "limit"},
		{"/v0.1/servers?limit=abc", 422, "limit"},
		{"/v0.1/servers?updated_since=yesterday", 400, "query.updated_since"},
		{"/v0.1/servers?search=" + strings.Repeat("a", 201), 422, "search"},
		{"/v0.2/servers", 404, "no such endpoint"},
		{"/v0.1/servers/io.github.acme/weather/versions/1.0.0", 404, `which must be URL-encoded as %2F in a path: /v0.1/servers/io.github.acme%2Fweather/versions/1.0.0`},
		{"/v0/servers/io.github.acme/weather/versions", 404, "/v0/servers/io.github.acme%2Fweather/versions"},
	}
	for _, c := range errCases {
		r := get(t, h, c.path)
		if r.code != c.status || !strings.Contains(problemText(t, r.body), c.detail) {
			t.Errorf("GET %s = %d %s, want %d mentioning %q", c.path, r.code, r.body, c.status, c.detail)
		}
		if ct := r.hdr.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %q", c.path, ct)
		}
	}
}
