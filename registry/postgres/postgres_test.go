package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlstore"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// newSchema creates a schema of the test's own in the test database and drops it (with
// everything in it) at cleanup, so that tests and packages running in parallel never meet.
func newSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	dsn = testenv.PostgresDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema = "vetted_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

func open(t testing.TB, dsn, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		dsn, schema := newSchema(t)
		return open(t, dsn, schema)
	})
}

// Two pools on one database stand in for two `vetted serve` processes: racing on one
// version they store one row; racing on different versions they agree on one latest.
func TestTwoProcesses(t *testing.T) {
	dsn, schema := newSchema(t)
	storetest.RaceTwoStores(t, open(t, dsn, schema), open(t, dsn, schema))
}

// Replicas starting together create the schema and migrate it once.
func TestConcurrentOpen(t *testing.T) {
	dsn, schema := newSchema(t)
	schema += "_fresh"
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			defer conn.Close(context.Background())
			_, err = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		}
		if err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+schema+`.schema_migrations`).Scan(&n); err != nil || n != migrationFiles(t) {
		t.Fatalf("schema_migrations has %d rows (err %v), want one per file in migrations/ (%d)", n, err, migrationFiles(t))
	}
}

// A database at an older schema gets the newer migrations on Open: here the last one is
// undone by hand and must come back.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	open(t, dsn, schema).Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	last := 2 // 0002_version_index
	if _, err := conn.Exec(ctx, `DROP INDEX `+schema+`.versions_version_name; DELETE FROM `+schema+`.schema_migrations WHERE version = `+strconv.Itoa(last)); err != nil {
		t.Fatal(err)
	}
	open(t, dsn, schema)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.schema_migrations WHERE version = $1`, last).Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration %d not re-applied: %d rows, err %v", last, n, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'versions_version_name'`, schema).Scan(&n); err != nil || n != 1 {
		t.Fatalf("index of migration %d missing after the upgrade: %d, err %v", last, n, err)
	}
}

func migrationFiles(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return len(files)
}

func TestOpenRejectsBadDSN(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:secret@[::1:5432/db")
	if err == nil {
		t.Fatal("Open with a malformed DSN succeeded")
	}
	if want := "does not parse"; !contains(err.Error(), want) || contains(err.Error(), "secret") {
		t.Fatalf("error = %q, want it to say %q without echoing the password", err, want)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// WithSchema creates its schema, whatever its spelling.
func TestWithSchemaCreatesIt(t *testing.T) {
	dsn, schema := newSchema(t)
	odd := schema + `_Odd "name"`
	s := open(t, dsn, odd)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			defer conn.Close(context.Background())
			_, err = conn.Exec(context.Background(), `DROP SCHEMA `+pgx.Identifier{odd}.Sanitize()+` CASCADE`)
		}
		if err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	v := registry.Version{Name: "io.github.acme/a", Version: "1.0.0", Status: registry.StatusPublished, ServerJSON: []byte(`{}`)}
	if _, _, err := s.CreateVersion(context.Background(), v); err != nil {
		t.Fatalf("CreateVersion in schema %q: %v", odd, err)
	}
}

func FuzzSearch(f *testing.F) {
	dsn, schema := newSchema(f)
	storetest.FuzzSearch(f, open(f, dsn, schema))
}

// Migration 0008 drops the links an older version stored in the served _meta (the API
// renders them at response time now) and keeps everything else in the object.
func TestMigrationDropsStoredLinks(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s := open(t, dsn, schema)
	k := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	stored := `{"packages":[],"decidedAt":"2026-11-25T12:00:00Z","links":{"tools":"/t"}}`
	if _, _, err := s.CreateVersion(ctx, registry.Version{Name: k.Name, Version: k.Version, Status: registry.StatusPublished,
		ServerJSON: []byte(`{}`), Vetted: []byte(stored)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DELETE FROM `+schema+`.schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	v, err := open(t, dsn, schema).GetVersion(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(v.Vetted), "links") || !strings.Contains(string(v.Vetted), `"decidedAt": "2026-11-25T12:00:00Z"`) {
		t.Fatalf("migrated _meta = %s, want the stored object without links", v.Vetted)
	}
}

// The benchmark's scan mode (sqlstore.WithSearchScan) answers searches exactly as the index.
func TestSearchScanMode(t *testing.T) {
	dsn, schema := newSchema(t)
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), sqlstore.WithSearchScan())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.SearchConformance(t, s)
}
