package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
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
	a, b := open(t, dsn, schema), open(t, dsn, schema)
	pick := func(i int) registry.Store {
		if i%2 == 0 {
			return a
		}
		return b
	}
	storetest.RaceSameVersion(t, pick)
	storetest.RaceLatest(t, pick)
}

// Replicas starting together migrate the schema once.
func TestConcurrentOpen(t *testing.T) {
	dsn, schema := newSchema(t)
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
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+schema+`.schema_migrations WHERE version = 1`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema_migrations has %d rows for migration 1 (err %v), want 1", n, err)
	}
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
