package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry/storetest"
)

// BenchmarkRead: the read path on 10,000 servers × 5 versions.
func BenchmarkRead(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "bench.db"))
	storetest.Load(b, s, 10000, 5)
	storetest.Bench(b, s, 10000, 5)
}
