package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	sqlitedriver "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the registry's storage (registry/sqlstore) on one SQLite file: one writer
// connection (SQLite's single writer, taking the write lock when a transaction begins) and a
// read-only pool. It is safe for concurrent use.
type Store struct {
	*sqlstore.Store
	counts *sqlstore.TrigramCounts // the search's trigram counts; nil: search does not narrow
}

var _ registry.Backend = (*Store)(nil)

// Open takes registry/sqlstore's options (sqlstore.WithClock, sqlstore.WithLogger, …);
// these concern SQLite.
var WithReadConns, WithBusyTimeout = sqlstore.WithReadConns, sqlstore.WithBusyTimeout

// Open opens (creating it, and its directory, if needed) the SQLite database at path and
// applies the pending migrations.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*Store, error) {
	c, err := sqlstore.Apply(sqlstore.Options{ReadConns: max(4, 2*runtime.GOMAXPROCS(0)), BusyTimeout: 10 * time.Second}, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty database path: %w", registry.ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, c.BusyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := sqlstore.Migrate(ctx, w, dialect, migrationFS, nil, c.Now, c.Log); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, c.BusyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(c.ReadConns)
	r.SetMaxIdleConns(c.ReadConns)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	d, counts := c.Searching(dialect), (*sqlstore.TrigramCounts)(nil)
	if d.SearchNarrow != nil {
		// Each store keeps its own copy of the counts (stores may be on other files).
		counts = newTrigramCounts()
		d.SearchNarrow = counts.SearchNarrow(narrow)
	}
	return &Store{Store: sqlstore.New(w, r, d, c.Now, c.Log), counts: counts}, nil
}

// dsn builds the driver's connection string. The writer takes the write lock when its
// transaction begins (_txlock=immediate); readers are query_only.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// dialect is SQLite's: "?" placeholders, times as Unix microseconds, no row locks (the
// single writer serializes write transactions), SQLITE_BUSY retried, batched inserts.
var dialect = sqlstore.Dialect{
	Name: "sqlite",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
	Time:          func(t time.Time) any { return t.UnixMicro() },
	True:          "1",
	NamespaceExpr: `substr(name, 1, instr(name, '/') - 1)`,
	LockServers: func(ctx context.Context, tx *sql.Tx, names []string, createdAt []any) error {
		for i, n := range names {
			if _, err := tx.ExecContext(ctx, `INSERT INTO servers (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, n, createdAt[i]); err != nil {
				return err
			}
		}
		return nil
	},
	Retryable: func(err error) bool {
		var se *sqlitedriver.Error
		return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
	},
	BulkInsert: func(ctx context.Context, _ *sql.Conn, tx *sql.Tx, table string, columns []string, rows [][]any) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(columns, ", ")+`) VALUES (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ")+`)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
		return nil
	},
	AfterBulk: func(ctx context.Context, db *sql.DB, n int) error {
		if n < 1000 {
			return nil
		}
		// Merge the search index into one segment: a bulk load leaves one segment per batch
		// (merged by levels), and a search reads the common trigrams' postings in every
		// segment (at 100,000 servers, three times the cost of one merged segment).
		_, err := db.ExecContext(ctx, `INSERT INTO servers_search (servers_search) VALUES ('optimize')`)
		return err
	},
	SearchFilter: searchFilter,
	// SearchNarrow is set per store in Open (its trigram counts are the store's own); this
	// marks that the dialect has one.
	SearchNarrow: func(ctx context.Context, db *sql.DB, term string) (sqlstore.SearchCond, error) {
		return narrow(ctx, newTrigramCounts(), db, term)
	},
	// The scan search was before the index (SQLite's LIKE folds ASCII letters only).
	ScanFilter: func(term string) (string, []any) {
		return `name LIKE ? ESCAPE '\'`, []any{"%" + sqlstore.EscapeLike(term) + "%"}
	},
}
