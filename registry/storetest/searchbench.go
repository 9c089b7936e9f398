package storetest

import (
	"context"
	"testing"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
)

// LoadSearchBench seeds s with the read benchmark's data set (bench/loadgen: servers × 5
// versions), in batches.
func LoadSearchBench(tb testing.TB, s registry.Store, servers int) {
	tb.Helper()
	bc, ok := s.(registry.BulkCreator)
	if !ok {
		tb.Fatalf("%T has no bulk create", s)
	}
	for from := 0; from < servers; from += 2000 {
		if _, err := bc.CreateVersions(context.Background(), loadgen.DatasetRange(from, min(servers, from+2000), 5)); err != nil {
			tb.Fatalf("CreateVersions: %v", err)
		}
	}
}

// BenchSearchMiss measures the response cache's miss path at the store: searches with terms
// never repeated (each matching one server's five versions, as `bench/read.sh`'s uncached
// scenario sends), on stores seeded by LoadSearchBench(servers). stores names the stores to
// compare ("index", "index-whole-term", "scan"; those present run, in that order).
func BenchSearchMiss(b *testing.B, servers int, stores map[string]registry.Store) {
	ctx := context.Background()
	for _, name := range []string{"index", "index-whole-term", "scan"} {
		s, ok := stores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			terms := loadgen.NewUniqueTerms(servers, 0, 1)
			b.ReportAllocs()
			for b.Loop() {
				vs, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Search: terms.Next(), Limit: 30})
				if err != nil || len(vs) != 5 {
					b.Fatalf("%d versions, %v", len(vs), err)
				}
			}
		})
	}
}
