package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/sqlstore"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		return open(t, filepath.Join(t.TempDir(), "vetted.db"))
	})
}

// Open creates the database and its directory on first start, and a second Open of the same
// file (a restart) keeps the data and applies no migration twice.
func TestOpenCreatesAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "nested", "vetted.db")
	s := open(t, path)
	v := registry.Version{Name: "io.github.acme/a", Version: "1.0.0", Status: registry.StatusPublished, ServerJSON: []byte(`{}`)}
	if _, _, err := s.CreateVersion(ctx, v); err != nil {
		t.Fatalf("CreateVersion: %v", err)
	}
	seq, _ := s.ChangeSeq(ctx)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := open(t, path)
	got, err := s2.LatestPublished(ctx, v.Name)
	if err != nil || got.Version != "1.0.0" {
		t.Fatalf("after reopen: LatestPublished = %q, %v", got.Version, err)
	}
	if seq2, _ := s2.ChangeSeq(ctx); seq2 != seq {
		t.Fatalf("after reopen: ChangeSeq = %d, want %d", seq2, seq)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	files, _ := filepath.Glob("migrations/*.sql")
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) || n == 0 {
		t.Fatalf("schema_migrations has %d rows (err %v), want one per file in migrations/ (%d)", n, err, len(files))
	}

	// An older schema is upgraded on Open: undo migration 0002 (the version index) by hand, reopen.
	if _, err := db.ExecContext(ctx, `DROP INDEX versions_version_name; DELETE FROM schema_migrations WHERE version = ?`, 2); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	open(t, path)
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'versions_version_name'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("index of migration 0002 missing after the upgrade: %d, err %v", n, err)
	}
}

// Two Stores on one file (two processes sharing the data directory) still yield one row.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vetted.db")
	storetest.RaceTwoStores(t, open(t, path), open(t, path))
}

func TestOpenRejectsEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
}

func FuzzSearch(f *testing.F) {
	storetest.FuzzSearch(f, open(f, filepath.Join(f.TempDir(), "fuzz.db")))
}

// The benchmark's scan mode (sqlstore.WithSearchScan) answers searches exactly as the index.
func TestSearchScanMode(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scan.db"), sqlstore.WithSearchScan())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.SearchConformance(t, s)
}
