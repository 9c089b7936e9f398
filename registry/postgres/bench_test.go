package postgres_test

import (
	"testing"

	"github.com/vetted-dev/vetted/registry/storetest"
)

// BenchmarkRead: the read path on 10,000 servers × 5 versions.
func BenchmarkRead(b *testing.B) {
	dsn, schema := newSchema(b)
	s := open(b, dsn, schema)
	storetest.Load(b, s, 10000, 5)
	storetest.Bench(b, s, 10000, 5)
}
