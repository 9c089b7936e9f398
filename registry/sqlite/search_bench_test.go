package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// BenchmarkSearchUncached runs the store's search with terms never repeated (the response
// cache's miss path), on the read benchmark's data set, with the index and with the scan.
func BenchmarkSearchUncached(b *testing.B) {
	const servers = 20000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "vetted.db")
	s := open(b, path)
	for from := 0; from < servers; from += 2000 {
		if _, err := s.CreateVersions(ctx, loadgen.DatasetRange(from, from+2000, 5)); err != nil {
			b.Fatal(err)
		}
	}
	scan, err := sqlite.Open(ctx, path, sqlstore.WithSearchScan())
	if err != nil {
		b.Fatal(err)
	}
	defer scan.Close()
	for _, c := range []struct {
		name string
		s    registry.Store
	}{{"index", s}, {"scan", scan}} {
		b.Run(c.name, func(b *testing.B) {
			terms := loadgen.NewUniqueTerms(servers, 0, 1)
			for b.Loop() {
				vs, _, err := c.s.ListVersionsPage(ctx, registry.ListQuery{Search: terms.Next(), Limit: 30})
				if err != nil || len(vs) != 5 {
					b.Fatalf("%d versions, %v", len(vs), err)
				}
			}
		})
	}
}
