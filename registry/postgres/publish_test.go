package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func TestPublishConformance(t *testing.T) {
	type where struct{ dsn, schema string }
	var mu sync.Mutex
	at := map[storetest.PublishStore]where{}
	lookup := func(s storetest.PublishStore) where {
		mu.Lock()
		defer mu.Unlock()
		return at[s]
	}
	storetest.RunPublish(t, storetest.Backend{
		New: func(t *testing.T) storetest.PublishStore {
			dsn, schema := newSchema(t)
			s := open(t, dsn, schema)
			mu.Lock()
			at[s] = where{dsn, schema}
			mu.Unlock()
			return s
		},
		Exec: func(t *testing.T, s storetest.PublishStore, query string, args ...any) {
			w := lookup(s)
			conn, err := pgx.Connect(context.Background(), w.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "SET search_path TO "+w.schema); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(context.Background(), query, args...); err != nil {
				t.Fatalf("tamper %q: %v", query, err)
			}
		},
		// A second pool on the same schema: another `vetted serve` replica.
		Second: func(t *testing.T, s storetest.PublishStore) storetest.PublishStore {
			w := lookup(s)
			return open(t, w.dsn, w.schema)
		},
		Placeholder: func(n int) string { return fmt.Sprintf("$%d", n) },
	})
}

var _ storetest.PublishStore = (*postgres.Store)(nil)
