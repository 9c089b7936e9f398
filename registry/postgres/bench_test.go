package postgres_test

import (
	"context"
	"os"
	"strconv"
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
// cache's miss path), on the read benchmark's data set (20,000 servers × 5, or
// $VETTED_BENCH_SERVERS), with the index asked for the term's rarest part (index), for the
// whole term (index-whole-term, before the trigram statistics) and with the scan.
func BenchmarkSearchMiss(b *testing.B) {
	servers := 20000
	if n, err := strconv.Atoi(os.Getenv("VETTED_BENCH_SERVERS")); err == nil && n > 0 {
		servers = n
	}
	dsn, schema := newSchema(b)
	s := open(b, dsn, schema)
	storetest.LoadSearchBench(b, s, servers)
	stores := map[string]registry.Store{"index": s}
	for name, opt := range map[string]sqlstore.Option{"scan": sqlstore.WithSearchScan(), "index-whole-term": sqlstore.WithSearchWholeTerm()} {
		o, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), opt)
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		stores[name] = o
	}
	storetest.BenchSearchMiss(b, servers, stores)
}
