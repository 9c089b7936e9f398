package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/sqlstore"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// BenchmarkSearchMiss runs the store's search with terms never repeated (the response
// cache's miss path), on the read benchmark's data set (20,000 servers × 5), with the index
// asked for the term's rarest part (index), for the whole term (index-whole-term, before
// the trigram counts) and with the scan.
func BenchmarkSearchMiss(b *testing.B) {
	const servers = 20000
	path := filepath.Join(b.TempDir(), "vetted.db")
	s := open(b, path)
	storetest.LoadSearchBench(b, s, servers)
	stores := map[string]registry.Store{"index": s}
	for name, opt := range map[string]sqlstore.Option{"scan": sqlstore.WithSearchScan(), "index-whole-term": sqlstore.WithSearchWholeTerm()} {
		o, err := sqlite.Open(context.Background(), path, opt)
		if err != nil {
			b.Fatal(err)
		}
		defer o.Close()
		stores[name] = o
	}
	storetest.BenchSearchMiss(b, servers, stores)
}

// A bulk create of 1,000 versions or more merges the search index into one segment (a
// search reads every segment's postings of the common trigrams); smaller ones leave it to
// FTS5's own merging. Search answers the same either way.
func TestBulkMergesSearchIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vetted.db")
	s := open(t, path)
	segments := func() int {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT segid) FROM servers_search_idx`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for from := 0; from < 600; from += 200 { // three batches of 1,000 versions
		if _, err := s.CreateVersions(ctx, loadgen.DatasetRange(from, from+200, 5)); err != nil {
			t.Fatal(err)
		}
		if n := segments(); n != 1 {
			t.Fatalf("after a bulk create of 1,000 versions: %d index segments, want 1", n)
		}
	}
	if _, err := s.CreateVersions(ctx, loadgen.DatasetRange(600, 610, 5)); err != nil {
		t.Fatal(err)
	}
	if n := segments(); n < 2 {
		t.Fatalf("after a bulk create of 50 versions: %d index segment, want more (not merged)", n)
	}
	for _, i := range []int{0, 199, 200, 599, 605} {
		term := strings.ToUpper(loadgen.Window(loadgen.Name(i), 3))
		vs, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Search: term, Limit: 30})
		if err != nil || len(vs) != 5 || vs[0].Name != loadgen.Name(i) {
			t.Fatalf("search %q: %d versions (%v), want the 5 of %s", term, len(vs), err, loadgen.Name(i))
		}
	}
}
