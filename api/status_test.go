package api

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// TestStatusPropagation: a version that stops being served disappears from default reads,
// and reappears — as the official registry shows a deleted version — for include_deleted
// and for an updated_since sync, with its status and the reason class, never the
// reviewer's text.
func TestStatusPropagation(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t)
			seed(t, st,
				"io.github.acme/weather@1.0.0",
				"io.github.acme/weather@2.0.0",
				"io.github.acme/tides@1.0.0",
				"io.github.acme/tides@2.0.0:pending_review",
			)
			for _, fast := range []bool{true, false} {
				opts := []Option{WithChangeCheckInterval(time.Nanosecond)}
				if !fast {
					opts = append(opts, withoutFastPath())
				}
				h := newServer(t, st, opts...)
				if fast { // warm the cache before the change: the change must still show
					get(t, h, "/v0.1/servers?include_deleted=true")
					get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0")
				}
				checkBeforeChange(t, h)
			}
			changeAt := t0.Add(time.Hour)
			d, err := registry.NewDesk(st.(registry.DeskStore), registry.WithDeskClock(func() time.Time { return changeAt }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Quarantine(context.Background(), registry.Action{Key: keyOf("io.github.acme/weather", "2.0.0"),
				Actor: "iss|alice", Reason: "SECRET-INCIDENT-4711 private notes"}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SetStatus(context.Background(), keyOf("io.github.acme/tides", "1.0.0"), registry.StatusDeprecated, changeAt.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			for _, fast := range []bool{true, false} {
				opts := []Option{WithChangeCheckInterval(time.Nanosecond)}
				if !fast {
					opts = append(opts, withoutFastPath())
				}
				h := newServer(t, st, opts...)
				for pass := 0; pass < 2; pass++ {
					checkAfterChange(t, h, changeAt)
				}
			}
		})
	}
}

func checkBeforeChange(t *testing.T, h http.Handler) {
	t.Helper()
	r := get(t, h, "/v0.1/servers?include_deleted=true")
	want := []string{"io.github.acme/tides@1.0.0", "io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"}
	if got := names(decodeList(t, r.body)); r.code != 200 || !reflect.DeepEqual(got, want) {
		t.Fatalf("include_deleted before any change = %d %v, want %v (never a pending version)", r.code, got, want)
	}
}

func checkAfterChange(t *testing.T, h http.Handler, changeAt time.Time) {
	t.Helper()
	// Default reads: only what is served.
	for _, q := range []string{"", "?include_deleted=false", "?include_deleted=0"} {
		r := get(t, h, "/v0.1/servers"+q)
		if got := names(decodeList(t, r.body)); r.code != 200 || !reflect.DeepEqual(got, []string{"io.github.acme/weather@1.0.0"}) {
			t.Fatalf("GET /v0.1/servers%s = %d %v, want only weather@1.0.0", q, r.code, got)
		}
	}
	for _, path := range []string{"/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0", "/v0/servers/io.github.acme%2Ftides/versions/1.0.0",
		"/v0.1/servers/io.github.acme%2Ftides/versions", "/v0.1/servers/io.github.acme%2Ftides/versions/2.0.0?include_deleted=true"} {
		if r := get(t, h, path); r.code != http.StatusNotFound {
			t.Fatalf("GET %s = %d, want 404: %s", path, r.code, r.body)
		}
	}

	// What a mirror sees: updated_since implies include_deleted, as upstream.
	since := changeAt.Add(-time.Second).Format(time.RFC3339)
	for _, q := range []string{"?updated_since=" + since, "?updated_since=" + since + "&include_deleted=true"} {
		r := get(t, h, "/v0.1/servers"+q)
		l := decodeList(t, r.body)
		if got := names(l); r.code != 200 || !reflect.DeepEqual(got, []string{"io.github.acme/tides@1.0.0", "io.github.acme/weather@2.0.0"}) {
			t.Fatalf("GET %s = %d %v", q, r.code, got)
		}
		tides, weather := l.Servers[0].Meta.Official, l.Servers[1].Meta.Official
		if tides.Status != "deprecated" || tides.IsLatest || !tides.UpdatedAt.Equal(changeAt.Add(time.Minute)) {
			t.Errorf("deprecated version's _meta = %+v", tides)
		}
		if weather.Status != "deleted" || weather.IsLatest || !weather.UpdatedAt.Equal(changeAt) || !weather.StatusChangedAt.Equal(changeAt) ||
			weather.StatusMessage == nil || *weather.StatusMessage != registry.StatusMessage(registry.StatusQuarantined, registry.ReasonReview) {
			t.Errorf("quarantined version's _meta = %+v (message %v)", weather, weather.StatusMessage)
		}
		if strings.Contains(r.body, "SECRET-INCIDENT") || strings.Contains(r.body, "alice") {
			t.Errorf("the reviewer's private text or identity leaked: %s", r.body)
		}
	}
	r := get(t, h, "/v0.1/servers?include_deleted=true")
	if got := names(decodeList(t, r.body)); !reflect.DeepEqual(got, []string{"io.github.acme/tides@1.0.0", "io.github.acme/weather@1.0.0", "io.github.acme/weather@2.0.0"}) {
		t.Errorf("include_deleted=true = %v", got)
	}
	// The latest moved back to 1.0.0, and stays the latest published with include_deleted.
	for _, q := range []string{"", "?include_deleted=true"} {
		one := decodeOne(t, get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest"+q).body)
		if one.Server.Version != "1.0.0" || !one.Meta.Official.IsLatest {
			t.Errorf("latest%s = %s %+v", q, one.Server.Version, one.Meta.Official)
		}
	}
	r = get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0?include_deleted=true")
	if one := decodeOne(t, r.body); r.code != 200 || one.Meta.Official.Status != "deleted" || one.Meta.Official.StatusMessage == nil {
		t.Errorf("one quarantined version with include_deleted = %d %s", r.code, r.body)
	}
	r = get(t, h, "/v0/servers/io.github.acme%2Fweather/versions?include_deleted=true")
	if got := names(decodeList(t, r.body)); r.code != 200 || !reflect.DeepEqual(got, []string{"io.github.acme/weather@2.0.0", "io.github.acme/weather@1.0.0"}) {
		t.Errorf("versions with include_deleted = %d %v", r.code, got)
	}
	r = get(t, h, "/v0.1/servers/io.github.acme%2Ftides/versions?include_deleted=true")
	if l := decodeList(t, r.body); r.code != 200 || len(l.Servers) != 1 || l.Servers[0].Meta.Official.Status != "deprecated" {
		t.Errorf("a server whose only served version is deprecated, with include_deleted = %d %s", r.code, r.body)
	}

	// Bad values are refused as upstream refuses them.
	for _, c := range []struct {
		path string
		code int
		why  string
	}{
		{"/v0.1/servers?updated_since=" + since + "&include_deleted=false", 400, "query.include_deleted: cannot be false with updated_since"},
		{"/v0.1/servers?include_deleted=maybe", 422, "query.include_deleted: invalid boolean"},
		{"/v0.1/servers/io.github.acme%2Fweather/versions?include_deleted=yes", 422, "query.include_deleted: invalid boolean"},
		{"/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0?include_deleted=2", 422, "query.include_deleted: invalid boolean"},
	} {
		r := get(t, h, c.path)
		if r.code != c.code || !strings.Contains(problemText(t, r.body), c.why) {
			t.Errorf("GET %s = %d %q, want %d naming %q", c.path, r.code, problemText(t, r.body), c.code, c.why)
		}
	}
}
