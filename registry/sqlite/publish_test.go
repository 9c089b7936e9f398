package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func TestPublishConformance(t *testing.T) {
	var mu sync.Mutex
	paths := map[storetest.PublishStore]string{}
	storetest.RunPublish(t, storetest.Backend{
		New: func(t *testing.T) storetest.PublishStore {
			p := filepath.Join(t.TempDir(), "vetted.db")
			s := open(t, p)
			mu.Lock()
			paths[s] = p
			mu.Unlock()
			return s
		},
		Exec: func(t *testing.T, s storetest.PublishStore, query string, args ...any) {
			mu.Lock()
			p := paths[s]
			mu.Unlock()
			db, err := sql.Open("sqlite", "file:"+p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
				t.Fatalf("tamper %q: %v", query, err)
			}
		},
		// A second Store on the same file: another process sharing the database.
		Second: func(t *testing.T, s storetest.PublishStore) storetest.PublishStore {
			mu.Lock()
			p := paths[s]
			mu.Unlock()
			return open(t, p)
		},
		Placeholder: func(int) string { return "?" },
	})
}

var _ storetest.PublishStore = (*sqlite.Store)(nil)
