package mirror_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/registry/pkg/model"

	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/mirror"
)

// seedRejected puts n upstream versions that the curation list names but whose image does
// not exist (each is rejected by the pipeline's resolve check, nothing stored).
func seedRejected(f *fixture, n int, t0 time.Time) {
	for i := 0; i < n; i++ {
		v := "1.0." + string(rune('0'+i))
		f.up.put(ociServer("io.github.acme/weather", v, f.reg.Ref("acme/weather", "missing")), model.StatusActive, t0.Add(time.Duration(i)*time.Second), false)
	}
}

// A run stopped by a bound resumes where it stopped; the high-water mark moves only when a
// pass reaches the end of the upstream's list (which is ordered by name, not by time).
func TestMirrorResumesABoundedPass(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t0 := f.now.Add(-time.Hour)
	seedRejected(f, 5, t0)
	m := f.mirror(t, mirror.Limits{PageSize: 2, MaxPages: 1})
	rep := run(t, m)
	wantCounts(t, "first page", rep, counts{fetched: 2, new: 2, rejected: 2})
	if rep.Complete || rep.HighWater != nil {
		t.Fatalf("a bounded pass: complete=%v highWater=%v", rep.Complete, rep.HighWater)
	}
	cp, err := f.store.MirrorCheckpoint(ctx, m.Upstream())
	if err != nil {
		t.Fatal(err)
	}
	if cp.Cursor != "io.github.acme/weather:1.0.1" || !cp.HighWater.IsZero() || !cp.PassMax.Equal(t0.Add(time.Second)) {
		t.Fatalf("checkpoint after a bounded pass: %+v", cp)
	}
	rep = run(t, m)
	wantCounts(t, "second page", rep, counts{fetched: 2, new: 2, rejected: 2})
	if got := f.up.requests[len(f.up.requests)-1].Get("cursor"); got != "io.github.acme/weather:1.0.1" {
		t.Fatalf("resumed from cursor %q", got)
	}
	rep = run(t, m)
	wantCounts(t, "last page", rep, counts{fetched: 1, new: 1, rejected: 1})
	if !rep.Complete || rep.HighWater == nil || !rep.HighWater.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("end of the pass: complete=%v highWater=%v", rep.Complete, rep.HighWater)
	}
	rep = run(t, m)
	wantCounts(t, "nothing new", rep, counts{})

	// MaxEntries stops within a page; the page is taken again from its cursor.
	f2 := newFixture(t)
	seedRejected(f2, 3, t0)
	m2 := f2.mirror(t, mirror.Limits{PageSize: 3, MaxEntries: 2})
	rep = run(t, m2)
	wantCounts(t, "max entries", rep, counts{fetched: 2, new: 2, rejected: 2})
	rep = run(t, m2)
	wantCounts(t, "after max entries", rep, counts{fetched: 2, unchanged: 2})
	if rep.Complete {
		t.Fatal("complete while bounded")
	}
}

// Every upstream request goes through the outbound guard: an upstream it does not allow is
// never reached, and the checkpoint does not move.
func TestMirrorGoesThroughTheGuard(t *testing.T) {
	f := newFixture(t)
	seedRejected(f, 1, f.now.Add(-time.Hour))
	g, err := netguard.New() // loopback not allowed
	if err != nil {
		t.Fatal(err)
	}
	m, err := mirror.New(mirror.Config{Upstream: f.up.srv.URL, Curation: f.curation, Client: g.Client(), Pipeline: f.pipe, Store: f.store})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.Run(context.Background(), false)
	if err == nil || rep == nil || rep.Error == "" || rep.Complete {
		t.Fatalf("run through a guard that refuses the upstream: %v, %+v", err, rep)
	}
	if len(f.up.requests) != 0 {
		t.Fatalf("the upstream was reached %d times", len(f.up.requests))
	}
	cp, err := f.store.MirrorCheckpoint(context.Background(), m.Upstream())
	if err != nil || !cp.HighWater.IsZero() || cp.Cursor != "" {
		t.Fatalf("checkpoint after a refused run: %+v, %v", cp, err)
	}
}

// A dry run decides with the pipeline and records nothing.
func TestMirrorDryRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.push(t, "acme/weather", "1.0.0", f.key, spdx("4.17.21"), toolsV1)
	f.up.put(ociServer("io.github.acme/weather", "1.0.0", good), model.StatusActive, f.now.Add(-time.Hour), true)
	m := f.mirror(t, mirror.Limits{})
	rep, err := m.Run(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "dry run", rep, counts{fetched: 1, new: 1, published: 1})
	if !rep.DryRun {
		t.Fatal("report does not say dry run")
	}
	if _, err := f.store.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a dry run stored the version: %v", err)
	}
	if _, err := f.store.MirrorCheckpoint(ctx, m.Upstream()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a dry run saved a checkpoint: %v", err)
	}
	if n := len(auditCount(t, f.store)); n != 0 {
		t.Fatalf("a dry run wrote %d audit events", n)
	}
	rep = run(t, m)
	wantCounts(t, "real run", rep, counts{fetched: 1, new: 1, published: 1})
}

// An upstream that answers badly stops the run with a reason; nothing is decided.
func TestMirrorUpstreamFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		limits  mirror.Limits
		want    string
	}{
		{"error status", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusBadGateway) }, mirror.Limits{}, "502"},
		{"not the v0.1 shape", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"servers":{}}`)) }, mirror.Limits{}, "not the v0.1 shape"},
		{"page too large", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"servers":[],"metadata":{"count":0},"pad":"` + strings.Repeat("x", 2048) + `"}`))
		}, mirror.Limits{MaxPageBytes: 1024}, "larger than 1024 bytes"},
		{"more entries than asked", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"servers":[{"server":{}},{"server":{}},{"server":{}}],"metadata":{"count":3}}`))
		}, mirror.Limits{PageSize: 2}, "more than the 2 asked for"},
		{"cursor does not advance", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"servers":[],"metadata":{"count":0,"nextCursor":"same"}}`))
		}, mirror.Limits{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			g, err := netguard.New(netguard.AllowURLs(srv.URL), netguard.AllowNetworks(netip.MustParsePrefix("127.0.0.0/8")))
			if err != nil {
				t.Fatal(err)
			}
			m, err := mirror.New(mirror.Config{Upstream: srv.URL, Curation: f.curation, Limits: tc.limits, Client: g.Client(), Pipeline: f.pipe, Store: f.store})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := m.Run(context.Background(), false)
			if tc.name == "cursor does not advance" {
				// First page "same", then the same cursor again: refused on the second page.
				if err == nil || !strings.Contains(err.Error(), "does not advance") || rep.Pages != 1 {
					t.Fatalf("err %v, report %+v", err, rep)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || rep.Complete || rep.Fetched != 0 {
				t.Fatalf("err %v (want %q), report %+v", err, tc.want, rep)
			}
		})
	}
}

func TestCuration(t *testing.T) {
	for _, c := range []mirror.Curation{{}, {Include: []string{"["}}, {Include: []string{"*"}, Exclude: []string{""}}, {Include: []string{"*"}, PackageTypes: []string{" oci"}}} {
		if err := c.Validate(); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", c, err)
		}
	}
	c := mirror.Curation{Include: []string{"io.github.acme/*", "com.example/weather"}, Exclude: []string{"io.github.acme/experimental-*"}}
	for name, want := range map[string]bool{
		"io.github.acme/weather": true, "com.example/weather": true, "com.example/tides": false,
		"io.github.acme/experimental-x": false, "io.github.acme.evil/weather": false, "io.github.acme": false,
	} {
		if got := c.Names(name); got != want {
			t.Errorf("Names(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseUpstream(t *testing.T) {
	for raw, want := range map[string]string{
		"https://registry.modelcontextprotocol.io/": "https://registry.modelcontextprotocol.io",
		"http://127.0.0.1:8080/mirror//":            "http://127.0.0.1:8080/mirror",
	} {
		if got, err := mirror.ParseUpstream(raw); err != nil || got != want {
			t.Errorf("ParseUpstream(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for raw, why := range map[string]string{
		"ftp://x": "http", "https://": "no host", "https://u:p@x": "credentials", "https://x/?a=1": "no query", "https://x/#f": "no query", "%": "",
	} {
		if _, err := mirror.ParseUpstream(raw); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseUpstream(%q) = %v, want an error naming %q", raw, err, why)
		}
	}
}

func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{"https://registry.modelcontextprotocol.io", "http://127.0.0.1:8080/x/", "https://u@x", "https://x/?q", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := mirror.ParseUpstream(raw)
		if err != nil {
			return
		}
		again, err := mirror.ParseUpstream(got)
		if err != nil || again != got {
			t.Fatalf("ParseUpstream(%q) = %q, not a fixed point (%q, %v)", raw, got, again, err)
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") || strings.HasSuffix(got, "/") {
			t.Fatalf("ParseUpstream(%q) = %q", raw, got)
		}
	})
}

// flaky fails GetVersion of one name while broken is set.
type flaky struct {
	mirror.Store
	name   string
	broken bool
}

func (s *flaky) GetVersion(ctx context.Context, k registry.Key) (registry.Version, error) {
	if s.broken && k.Name == s.name {
		return registry.Version{}, errors.New("database on fire")
	}
	return s.Store.GetVersion(ctx, k)
}

// An operational failure is reported and never skipped over: the mark stays, and the next
// run takes the pass again (what succeeded is unchanged then).
func TestMirrorRetriesFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	t0 := f.now.Add(-time.Hour)
	seedRejected(f, 2, t0)
	f.up.put(ociServer("io.github.acme/aaa", "1.0.0", f.reg.Ref("acme/aaa", "missing")), model.StatusActive, t0.Add(time.Minute), false)
	st := &flaky{Store: f.store, name: "io.github.acme/aaa", broken: true}
	m, err := mirror.New(mirror.Config{Upstream: f.up.srv.URL, Curation: f.curation, Limits: mirror.Limits{PageSize: 1, MaxPages: 2},
		Client: f.guard.Client(), Pipeline: f.pipe, Store: st, Clock: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, m)
	wantCounts(t, "failing run", rep, counts{fetched: 2, new: 1, rejected: 1, failed: 1})
	if e := outcome(t, rep, "io.github.acme/aaa", "1.0.0"); !strings.Contains(e.Reason, "database on fire") {
		t.Fatalf("failure reason: %+v", e)
	}
	cp, err := f.store.MirrorCheckpoint(ctx, m.Upstream())
	if err != nil || cp.Cursor != "" || !cp.HighWater.IsZero() {
		t.Fatalf("checkpoint after a failure: %+v, %v (want the pass taken again from the start)", cp, err)
	}
	st.broken = false
	rep = run(t, m)
	wantCounts(t, "retry", rep, counts{fetched: 2, new: 1, rejected: 1, unchanged: 1})
	rep = run(t, m)
	wantCounts(t, "rest of the pass", rep, counts{fetched: 1, new: 1, rejected: 1})
	if !rep.Complete || rep.HighWater == nil || !rep.HighWater.Equal(t0.Add(time.Minute)) {
		t.Fatalf("end of the pass: %+v", rep)
	}
}
