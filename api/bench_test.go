package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// BenchmarkHandler measures the server's own cost per request (no network), from the
// cache, on SQLite seeded with 2,000 servers × 5 versions.
func BenchmarkHandler(b *testing.B) {
	st := openSQLite(b)
	const servers = 2000
	if _, err := st.(registry.BulkCreator).CreateVersions(context.Background(), loadgen.Dataset(servers, 5)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		path func(i int) string
	}{
		{"latest", func(i int) string {
			return "/v0.1/servers/" + url.PathEscape(loadgen.Name(i%servers)) + "/versions/latest"
		}},
		{"list100", func(int) string { return "/v0.1/servers?limit=100" }},
		{"search", func(i int) string { return "/v0.1/servers?search=" + loadgen.Words[i%len(loadgen.Words)] }},
	} {
		for _, fast := range []bool{true, false} {
			name := c.name + "/fast"
			var opts []Option
			if !fast {
				name = c.name + "/huma"
				opts = append(opts, withoutFastPath())
			}
			b.Run(name, func(b *testing.B) {
				h := newServer(b, st, opts...).Handler()
				reqs := make([]*http.Request, servers)
				for i := range reqs {
					reqs[i] = httptest.NewRequest(http.MethodGet, c.path(i), nil)
					h.ServeHTTP(httptest.NewRecorder(), reqs[i]) // warm the cache
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := &discardWriter{h: http.Header{}}
					i := 0
					for pb.Next() {
						clear(w.h)
						h.ServeHTTP(w, reqs[i%servers])
						if w.code != http.StatusOK {
							b.Errorf("status %d", w.code)
							return
						}
						i++
					}
				})
			})
		}
	}
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// BenchmarkSearchMiss measures the server's cost per uncached search (no network): every
// request sends a search term never sent before (bench/loadgen's unique terms, each matching
// one server's five versions), so each one misses the response cache, queries the store's
// search index, checks the versions' seals, renders the page and stores it in the cache. The
// store is SQLite with 20,000 servers × 5 versions, or the database at VETTED_BENCH_SQLITE
// (seeded by `vetted bench seed --servers VETTED_BENCH_SERVERS`) to profile another size.
func BenchmarkSearchMiss(b *testing.B) {
	servers, st := 20000, registry.Store(nil)
	if path := os.Getenv("VETTED_BENCH_SQLITE"); path != "" {
		n, err := strconv.Atoi(os.Getenv("VETTED_BENCH_SERVERS"))
		if err != nil {
			b.Fatalf("VETTED_BENCH_SERVERS: %v", err)
		}
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		servers, st = n, s
	} else {
		st = openSQLite(b)
		storetest.LoadSearchBench(b, st, servers)
	}
	h := newServer(b, st).Handler()
	terms := loadgen.NewUniqueTerms(servers, 0, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v0.1/servers?search="+url.QueryEscape(terms.Next()), nil))
			if w.code != http.StatusOK {
				b.Errorf("status %d", w.code)
				return
			}
		}
	})
}
