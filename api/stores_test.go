package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

type storeFactory struct {
	name string
	new  func(t testing.TB) registry.Store
}

// storeFactories are the real stores the API is tested against.
func storeFactories() []storeFactory {
	return []storeFactory{
		{"sqlite", openSQLite},
		{"postgres", openPostgres},
	}
}

func openSQLite(t testing.TB) registry.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vetted.db"))
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens a store in a schema of the test's own, dropped at cleanup.
func openPostgres(t testing.TB) registry.Store {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "vetted_api_test_" + hex.EncodeToString(b)
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
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
