package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
)

// sessionQuery runs query on the single connection of pool and returns its one row.
func sessionQuery(t *testing.T, pool *pgxpool.Pool, query string, dest ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if err := c.QueryRow(ctx, query).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// openOneConn opens a store on a new schema whose pools hold one connection each, so that
// a test can look at the session its queries ran in.
func openOneConn(t *testing.T) *postgres.Store {
	t.Helper()
	dsn, schema := newSchema(t)
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Reads stay prepared on their connection between queries. database/sql closes the
// connection it took from the pool after each query, and with it every sql.Stmt prepared on
// it (a DEALLOCATE); the store therefore leaves preparing to pgx, whose statements live as
// long as the connection.
func TestReadsStayPrepared(t *testing.T) {
	ctx := context.Background()
	s := openOneConn(t)
	for range 3 {
		if _, err := s.ChangeSeq(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pool, _ := postgres.Pools(s)
	var n int
	sessionQuery(t, pool, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%change_seq FROM registry_state%'
		AND statement NOT LIKE '%pg_prepared_statements%'`, &n)
	if n != 1 {
		t.Fatalf("the change_seq read is prepared %d times on the pool's connection after three reads, want 1 (closed with database/sql's connection?)", n)
	}
}

// A search whose index read is a rare part of the term runs on the generic pool, prepared
// once and planned once for every term; a term without a run of letters and digits is
// planned with its values on the main pool.
func TestSearchRunsOnGenericPlans(t *testing.T) {
	ctx := context.Background()
	s := openOneConn(t)
	var vs []registry.Version
	for i := range 50 {
		vs = append(vs, registry.Version{Name: fmt.Sprintf("io.github.org%05d/weather", i), Version: "1.0.0",
			Status: registry.StatusPublished, ServerJSON: []byte(`{}`), Vetted: []byte(`{}`)})
	}
	if _, err := s.CreateVersions(ctx, vs); err != nil {
		t.Fatal(err)
	}
	for i, term := range []string{"org00007/wea", "ORG00031/weather", "thub.org00042/"} {
		got, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Search: term, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("search %d %q: %d versions, want 1", i, term, len(got))
		}
	}
	if got, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Search: "/w", Limit: 100}); err != nil || len(got) != 50 {
		t.Fatalf("search %q: %d versions (%v), want 50", "/w", len(got), err)
	}
	_, generic := postgres.Pools(s)
	var mode string
	sessionQuery(t, generic, `SHOW plan_cache_mode`, &mode)
	if mode != "force_generic_plan" {
		t.Fatalf("the generic pool's plan_cache_mode is %q", mode)
	}
	var stmts, genericPlans, customPlans int64
	sessionQuery(t, generic, `SELECT count(*), coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
		FROM pg_prepared_statements WHERE statement LIKE '%FROM servers WHERE name ILIKE%'
		AND statement NOT LIKE '%pg_prepared_statements%'`, &stmts, &genericPlans, &customPlans)
	if stmts != 1 || genericPlans != 3 || customPlans != 0 {
		t.Fatalf("searches on the generic pool: %d statements, %d generic and %d custom plans; want 1 statement run 3 times on its generic plan", stmts, genericPlans, customPlans)
	}
}

// A version row too large for PostgreSQL to keep whole moves its stored server.json out of
// the row, never what is served (migration 0012): serving reads find served and vetted in
// the row, without a TOAST lookup. By default the largest value goes first, and the served
// document, with its digest pins, is often larger than the stored one.
func TestServedStaysInTheRow(t *testing.T) {
	ctx := context.Background()
	s := openOneConn(t)
	// Incompressible text, so that each value keeps its size: PostgreSQL then has to move
	// exactly one of them out of the 2.9 KB row, and its size says which.
	noise := func(seed, n int) string {
		b := make([]byte, n)
		x := uint32(seed*2654435761 + 1)
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = 'a' + byte(x%26)
		}
		return string(b)
	}
	doc := func(seed, n int) []byte {
		return []byte(fmt.Sprintf(`{"name":"io.github.acme/big","version":"1.0.0","description":%q}`, noise(seed, n)))
	}
	now := time.Now().UTC()
	raw, served := doc(1, 1000), doc(2, 1300)
	cd, err := registry.CanonicalContentDigest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateVersion(ctx, registry.Version{Name: "io.github.acme/big", Version: "1.0.0", Status: registry.StatusPublished,
		ServerJSON: raw, Served: served, Vetted: []byte(fmt.Sprintf(`{"summary":%q}`, noise(3, 300))), ContentDigest: cd,
		PublishedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	pool, _ := postgres.Pools(s)
	var toast string
	sessionQuery(t, pool, `SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'versions'::regclass`, &toast)
	var values, size int
	sessionQuery(t, pool, `SELECT count(DISTINCT chunk_id), coalesce(sum(length(chunk_data)), 0) FROM `+toast, &values, &size)
	if values != 1 || size != len(raw) {
		t.Fatalf("%d values (%d bytes) of the row moved out of it; want 1, the stored server.json (%d bytes; served is %d)", values, size, len(raw), len(served))
	}
}
