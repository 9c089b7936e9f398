package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// trigramStats returns search_trigrams as stored, and as counted afresh from the names.
func trigramStats(t *testing.T, conn *pgx.Conn, schema string) (stored, counted map[string]int64) {
	t.Helper()
	read := func(query string) map[string]int64 {
		rows, err := conn.Query(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		m, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct {
			T string
			N int64
		}, error) {
			var x struct {
				T string
				N int64
			}
			err := r.Scan(&x.T, &x.N)
			return x, err
		})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, x := range m {
			if x.N != 0 {
				out[x.T] = x.N
			}
		}
		return out
	}
	stored = read(`SELECT trigram, n FROM ` + schema + `.search_trigrams`)
	counted = read(`SELECT t, count(*) FROM (SELECT unnest(public.show_trgm(name)) AS t FROM ` + schema + `.servers
		UNION ALL SELECT '' FROM ` + schema + `.servers) g GROUP BY t`)
	return stored, counted
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// The trigram statistics follow the names through single and bulk creates, and migration
// 0011 counts the names already stored.
func TestSearchTrigramsMaintained(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s := open(t, dsn, schema)
	conn := connect(t, dsn)
	check := func(when string) {
		t.Helper()
		stored, counted := trigramStats(t, conn, schema)
		if len(counted) < 10 || fmt.Sprint(stored) != fmt.Sprint(counted) {
			t.Fatalf("%s: search_trigrams holds %d trigrams, the names %d:\n stored  %v\n counted %v", when, len(stored), len(counted), stored, counted)
		}
	}
	for i, name := range []string{"io.github.acme/weather", "io.github.acme/Weather-Ext", "com.example/日本-tools"} {
		for _, v := range []string{"1.0.0", "1.0.1"} { // a second version creates no server
			if _, _, err := s.CreateVersion(ctx, registry.Version{Name: name, Version: v, Status: registry.StatusPublished,
				ServerJSON: []byte(`{}`), Vetted: []byte(`{}`)}); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
	}
	check("after single creates")
	var bulk []registry.Version
	for i := range 300 {
		bulk = append(bulk, registry.Version{Name: fmt.Sprintf("io.github.org%05d/server-%d", i, i%7), Version: "1.0.0",
			Status: registry.StatusPublished, ServerJSON: []byte(`{}`), Vetted: []byte(`{}`)})
	}
	if _, err := s.CreateVersions(ctx, bulk); err != nil {
		t.Fatal(err)
	}
	check("after a bulk create")
	s.Close()
	if _, err := conn.Exec(ctx, `DROP TABLE `+schema+`.search_trigrams CASCADE;
		DROP TRIGGER servers_search_trigrams_insert ON `+schema+`.servers;
		DROP TRIGGER servers_search_trigrams_delete ON `+schema+`.servers;
		DROP FUNCTION `+schema+`.search_trigrams_add(); DROP FUNCTION `+schema+`.search_trigrams_remove();
		DELETE FROM `+schema+`.schema_migrations WHERE version = 11`); err != nil {
		t.Fatal(err)
	}
	open(t, dsn, schema)
	check("after migration 0011 over stored names")
	// A session with another search_path (an operator's psql) maintains them too.
	if _, err := conn.Exec(ctx, `INSERT INTO `+schema+`.servers (name, created_at) VALUES ('io.github.zq/xyzzy', now()), ('io.github.zq/plugh', now())`); err != nil {
		t.Fatal(err)
	}
	check("after inserting servers from another session")
	if _, err := conn.Exec(ctx, `DELETE FROM `+schema+`.servers WHERE name LIKE 'io.github.zq/%'`); err != nil {
		t.Fatal(err)
	}
	check("after deleting servers")
}

// The statistics only choose what the index is asked for: with counts that have nothing
// to do with the names (stale, or wrong), search answers exactly what the full scan did.
func TestSearchIgnoresWrongStatistics(t *testing.T) {
	ctx := context.Background()
	dsn, schema := newSchema(t)
	s := open(t, dsn, schema)
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `DROP TRIGGER servers_search_trigrams_insert ON `+schema+`.servers`); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const chars = "abcdeksi0123456789"
	batch := &pgx.Batch{}
	for _, a := range chars {
		for _, b := range chars {
			for _, c := range chars {
				batch.Queue(`INSERT INTO `+schema+`.search_trigrams (trigram, n) VALUES ($1, $2)`, string([]rune{a, b, c}), rng.IntN(5000))
			}
		}
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	storetest.SearchConformance(t, s)
}
