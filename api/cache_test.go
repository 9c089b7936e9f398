package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

func TestQuarantineDisappearsAfterInvalidate(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t)
			seed(t, st, "io.github.acme/weather@1.0.0", "io.github.acme/weather@1.1.0")
			// A long interval: only Invalidate can make the change visible.
			h := newServer(t, st, WithChangeCheckInterval(time.Minute))
			latest := "/v0.1/servers/io.github.acme%2Fweather/versions/latest"
			for i := 0; i < 2; i++ {
				if r := get(t, h, latest); r.code != 200 || decodeOne(t, r.body).Server.Version != "1.1.0" {
					t.Fatalf("latest before: %d %s", r.code, r.body)
				}
				if r := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/1.1.0"); r.code != 200 {
					t.Fatalf("1.1.0 before: %d", r.code)
				}
			}
			if _, err := st.SetStatus(context.Background(), keyOf("io.github.acme/weather", "1.1.0"), registry.StatusQuarantined, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			h.Invalidate()
			if r := get(t, h, latest); r.code != 200 || decodeOne(t, r.body).Server.Version != "1.0.0" {
				t.Fatalf("latest after quarantine: %d %s", r.code, r.body)
			}
			if r := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/1.1.0"); r.code != 404 {
				t.Fatalf("quarantined version served: %d %s", r.code, r.body)
			}
			if got := names(decodeList(t, get(t, h, "/v0.1/servers").body)); len(got) != 1 || got[0] != "io.github.acme/weather@1.0.0" {
				t.Fatalf("list after quarantine = %v", got)
			}
		})
	}
}

func TestChangeSeenAfterInterval(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t)
			seed(t, st, "io.github.acme/weather@1.0.0")
			// Another replica (a second Server on the same store) writes; this one notices
			// within the interval without being told.
			h := newServer(t, st, WithChangeCheckInterval(20*time.Millisecond))
			path := "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0"
			if r := get(t, h, path); r.code != 200 {
				t.Fatalf("before: %d", r.code)
			}
			if _, err := st.SetStatus(context.Background(), keyOf("io.github.acme/weather", "1.0.0"), registry.StatusQuarantined, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				r := get(t, h, path)
				if r.code == 404 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("quarantined version still served after 2s: %d", r.code)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestCacheServesWithoutStoreReads(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	h := newServer(t, st, WithChangeCheckInterval(time.Minute))
	for i := 0; i < 50; i++ {
		get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest")
		get(t, h, "/v0.1/servers?limit=100")
	}
	if n := st.Calls("LatestPublished"); n != 1 {
		t.Errorf("LatestPublished called %d times, want 1", n)
	}
	if n := st.Calls("ListVersionsPage"); n != 1 {
		t.Errorf("ListVersionsPage called %d times, want 1", n)
	}
	if n := st.Calls("ChangeSeq"); n != 1 {
		t.Errorf("ChangeSeq called %d times, want 1 within the interval", n)
	}
}

func TestStoreFailureIs503WithoutInternals(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	st.seqErr = errors.New("dial tcp 10.1.2.3:5432: connection refused")
	h := newServer(t, st)
	r := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/latest")
	if r.code != http.StatusServiceUnavailable || strings.Contains(r.body, "10.1.2.3") {
		t.Fatalf("= %d %s", r.code, r.body)
	}
	st.seqErr = nil
	st.failList = errors.New("SELECT * FROM versions: disk I/O error")
	r = get(t, h, "/v0.1/servers")
	if r.code != http.StatusInternalServerError || strings.Contains(r.body, "SELECT") || !strings.Contains(problemText(t, r.body), "internal error") {
		t.Fatalf("= %d %s", r.code, r.body)
	}
	st.pingErr = errors.New("dial tcp 10.1.2.3:5432: connection refused")
	if r := get(t, h, "/readyz"); r.code != http.StatusServiceUnavailable || strings.Contains(r.body, "10.1.2.3") {
		t.Fatalf("readyz = %d %s", r.code, r.body)
	}
}

func TestETag(t *testing.T) {
	for _, sf := range storeFactories() {
		t.Run(sf.name, func(t *testing.T) {
			st := sf.new(t)
			seed(t, st, "io.github.acme/weather@1.0.0")
			h := newServer(t, st)
			for _, path := range []string{
				"/v0.1/servers/io.github.acme%2Fweather/versions/latest",
				"/v0.1/servers/io.github.acme%2Fweather/versions",
				"/v0.1/servers?limit=100",
			} {
				for pass := 0; pass < 2; pass++ {
					r := get(t, h, path)
					etag := r.hdr.Get("ETag")
					if r.code != 200 || !strings.HasPrefix(etag, `"`) {
						t.Fatalf("GET %s = %d, ETag %q", path, r.code, etag)
					}
					cases := []struct {
						inm  string
						want int
					}{
						{etag, 304},
						{"W/" + etag, 304},
						{`"other", ` + etag, 304},
						{"*", 304},
						{`"other"`, 200},
						{`garbage`, 200},
					}
					for _, c := range cases {
						r2 := get(t, h, path, "If-None-Match", c.inm)
						if r2.code != c.want {
							t.Errorf("GET %s If-None-Match %s = %d, want %d", path, c.inm, r2.code, c.want)
						}
						if c.want == 304 && (r2.body != "" || r2.hdr.Get("ETag") != etag) {
							t.Errorf("304 with body %q, ETag %q", r2.body, r2.hdr.Get("ETag"))
						}
					}
				}
			}
		})
	}
}

// Concurrent misses of one response compute it once; the metrics count hits and misses.
func TestConcurrentMissesComputeOnce(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	gate := make(chan struct{})
	st.listGate = gate // every request misses while the first computes
	h := newServer(t, st, WithChangeCheckInterval(time.Minute))
	done := make(chan int, 20)
	for i := 0; i < 20; i++ {
		go func() {
			done <- get(t, h, "/v0.1/servers?limit=7").code
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(gate)
	for i := 0; i < 20; i++ {
		if code := <-done; code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	if n := st.Calls("ListVersionsPage"); n != 1 {
		t.Errorf("ListVersionsPage called %d times for 20 concurrent misses, want 1", n)
	}
	get(t, h, "/v0.1/servers?limit=7")
	m := get(t, h, "/metrics").body
	if !strings.Contains(m, `vetted_cache_lookups_total{kind="list",result="hit"} 1`) ||
		!strings.Contains(m, `vetted_cache_lookups_total{kind="list",result="miss"} 20`) ||
		!strings.Contains(m, `vetted_cache_generations_total 1`) {
		t.Errorf("cache metrics:\n%s", grepLines(m, "vetted_cache"))
	}
}

// A slow ChangeSeq read does not hold up requests while the last read is recent; once it is
// staleLimit intervals old, requests wait for it (and see the change).
func TestSlowChangeSeqDoesNotBlockReads(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0")
	const interval = 100 * time.Millisecond
	h := newServer(t, st, WithChangeCheckInterval(interval))
	path := "/v0.1/servers/io.github.acme%2Fweather/versions/latest"
	get(t, h, path)
	gate := make(chan struct{})
	st.mu.Lock()
	st.seqGate = gate
	st.mu.Unlock()
	time.Sleep(interval + 20*time.Millisecond)
	start := time.Now()
	if r := get(t, h, path); r.code != 200 || time.Since(start) > interval/2 {
		t.Fatalf("read during a slow ChangeSeq: %d after %v", r.code, time.Since(start))
	}
	if _, err := st.SetStatus(context.Background(), keyOf("io.github.acme/weather", "1.0.0"), registry.StatusQuarantined, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(staleLimit * interval)
	done := make(chan int)
	go func() { done <- get(t, h, path).code }()
	select {
	case code := <-done:
		t.Fatalf("a read %d intervals after the last check did not wait for ChangeSeq: %d", staleLimit, code)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if code := <-done; code != http.StatusNotFound {
		t.Fatalf("after the check: %d, want 404 (quarantined)", code)
	}
}

// Spellings of one list query share one cache entry and one store query: search in another
// ASCII case, the same instant written another way, parameters in another order.
func TestListCacheKeyIsNormalized(t *testing.T) {
	st := newMemStore()
	seed(t, st, "io.github.acme/weather@1.0.0", "io.github.acme/tides@1.0.0")
	h := newServer(t, st).Handler()
	variants := []string{
		"/v0.1/servers?search=Weather&updated_since=2025-01-01T00:00:00Z&limit=10",
		"/v0.1/servers?search=WEATHER&updated_since=2025-01-01T01:00:00%2B01:00&limit=10",
		"/v0.1/servers?limit=10&updated_since=2025-01-01T00:00:00.000Z&search=weather",
	}
	var body string
	for i, v := range variants {
		r := get(t, h, v)
		if r.code != 200 || !strings.Contains(r.body, "io.github.acme/weather") || strings.Contains(r.body, "tides") {
			t.Fatalf("%s: %d %s", v, r.code, r.body)
		}
		if i > 0 && r.body != body {
			t.Fatalf("%s answers differently: %s vs %s", v, r.body, body)
		}
		body = r.body
	}
	if n := st.Calls("ListVersionsPage"); n != 1 {
		t.Fatalf("%d store queries for one query spelled %d ways, want 1", n, len(variants))
	}
	// A different query is another entry.
	get(t, h, "/v0.1/servers?search=tides&limit=10")
	if n := st.Calls("ListVersionsPage"); n != 2 {
		t.Fatalf("%d store queries, want 2", n)
	}
}

// The cache bound holds for the memory the entries keep, not only for their bodies' lengths:
// a cache of 4 MiB filled to its bound with list pages of grown buffers under long search keys
// (what the uncached search scenario leaves) keeps the bound plus little on the heap.
func TestCacheBoundCountsWhatEntriesKeep(t *testing.T) {
	const bound = 4 << 20
	c := newCache(nil, time.Minute, bound)
	g := c.gen.Load()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; ; i++ {
		var buf bytes.Buffer
		for buf.Len() < 1500 {
			buf.WriteString(`{"server":{"name":"io.github.example/server"}},`) // grows past its length
		}
		k := listKey{limit: 30, search: fmt.Sprintf("%s-%06d", strings.Repeat("term", 40), i)}
		e := newEntry(buf.Bytes())
		if cap(e.body) > len(e.body)+len(e.body)/8 {
			t.Fatalf("entry keeps %d bytes for a body of %d", cap(e.body), len(e.body))
		}
		if g.bytes+entrySize(k, e) > bound {
			break // full: one more would empty it
		}
		c.putList(g, k, e)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > bound+bound/4 {
		t.Errorf("live heap grew by %d bytes with a full cache bound to %d (%d entries accounted as %d bytes)", grew, bound, len(g.lists), g.bytes)
	} else {
		t.Logf("live heap grew by %d bytes with a full cache bound to %d (%d entries)", grew, bound, len(g.lists))
	}
	runtime.KeepAlive(c)
}
