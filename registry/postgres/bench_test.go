package postgres_test

import (
	"context"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlstore"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// BenchmarkRead: the read path on 10,000 servers × 5 versions.
func BenchmarkRead(b *testing.B) {
	dsn, schema := newSchema(b)
	s := open(b, dsn, schema)
	storetest.Load(b, s, 10000, 5)
	storetest.Bench(b, s, 10000, 5)
}

// BenchmarkSearchMiss runs the store's search with terms never repeated (the response
// cache's miss path), on the read benchmark's data set (20,000 servers × 5), with the index
// and with the scan.
func BenchmarkSearchMiss(b *testing.B) {
	const servers = 20000
	dsn, schema := newSchema(b)
	s := open(b, dsn, schema)
	storetest.LoadSearchBench(b, s, servers)
	scan, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), sqlstore.WithSearchScan())
	if err != nil {
		b.Fatal(err)
	}
	defer scan.Close()
	storetest.BenchSearchMiss(b, servers, map[string]registry.Store{"index": s, "scan": scan})
}
