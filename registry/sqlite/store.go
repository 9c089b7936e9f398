package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/internal/migrate"
	"github.com/vetted-dev/vetted/registry"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a registry.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	w     *sql.DB // exactly one connection: every write goes through it
	r     *sql.DB // read-only pool
	now   func() time.Time
	log   *slog.Logger
	stmts sync.Map // query text -> *sql.Stmt prepared on r
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.BulkCreator = (*Store)(nil)
)

// Option configures Open.
type Option func(*config) error

type config struct {
	now       func() time.Time
	log       *slog.Logger
	readConns int
	busy      time.Duration
}

// WithClock sets the clock used for times the caller leaves zero (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("sqlite: WithClock(nil)")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("sqlite: WithLogger(nil)")
		}
		c.log = l
		return nil
	}
}

// WithReadConns sets the size of the read-only connection pool (default 2×GOMAXPROCS, at
// least 4).
func WithReadConns(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("sqlite: WithReadConns(%d): need at least 1", n)
		}
		c.readConns = n
		return nil
	}
}

// WithBusyTimeout sets how long a connection waits for a lock held by another process
// (default 10s).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("sqlite: WithBusyTimeout(%v): negative", d)
		}
		c.busy = d
		return nil
	}
}

// Open opens (creating it, and its directory, if needed) the SQLite database at path and
// applies the pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	c := config{
		now:       time.Now,
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		readConns: max(4, 2*runtime.GOMAXPROCS(0)),
		busy:      10 * time.Second,
	}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty database path: %w", registry.ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, c.busy, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, now: c.now, log: c.log}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, c.busy, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(c.readConns)
	r.SetMaxIdleConns(c.readConns)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.r = r
	return s, nil
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

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if len(applied) > len(ms) {
		return fmt.Errorf("sqlite: the database has %d migrations applied, this build knows %d: it was written by a newer vetted", len(applied), len(ms))
	}
	for _, m := range migrate.Pending(ms, applied) {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("sqlite: record migration %d: %w", m.Version, err)
		}
		s.log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the prepared statements and both connection pools.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(s.r.Close(), s.w.Close())
}

// stmt returns the read statement for query, preparing it once.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}
