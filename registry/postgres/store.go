package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vetted-dev/vetted/internal/migrate"
	"github.com/vetted-dev/vetted/registry"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a registry.Store on PostgreSQL. It is safe for concurrent use, and several
// Stores (in several processes) may share one database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.BulkCreator = (*Store)(nil)
)

// Option configures Open.
type Option func(*config) error

type config struct {
	now      func() time.Time
	log      *slog.Logger
	schema   string
	maxConns int32
}

// WithClock sets the clock used for times the caller leaves zero (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("postgres: WithClock(nil)")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("postgres: WithLogger(nil)")
		}
		c.log = l
		return nil
	}
}

// WithSchema keeps Vetted's tables in schema, created on Open if missing, by setting every
// connection's search_path to it. The default is the connection's own search_path.
func WithSchema(schema string) Option {
	return func(c *config) error {
		if schema == "" {
			return errors.New("postgres: WithSchema(\"\")")
		}
		c.schema = schema
		return nil
	}
}

// WithMaxConns sets the pool size (default: pgxpool's, or pool_max_conns in the DSN).
func WithMaxConns(n int32) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("postgres: WithMaxConns(%d): need at least 1", n)
		}
		c.maxConns = n
		return nil
	}
}

// Open connects to the database at dsn (a postgres:// URL or key=value string) and applies
// the pending migrations.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	c := config{now: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep only that it failed.
		return nil, fmt.Errorf("postgres: the database address does not parse: %w", registry.ErrInvalid)
	}
	if c.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{c.schema}.Sanitize()
	}
	if c.maxConns > 0 {
		cfg.MaxConns = c.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, now: c.now, log: c.log}
	if err := s.migrate(ctx, c.schema); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the pending migrations, creating schema first when it is set.
func (s *Store) migrate(ctx context.Context, schema string) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	// One migrator per schema at a time; released at commit.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('vetted.migrate.' || coalesce(nullif($1, ''), current_schema(), '')))`, schema); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: create schema %q: %w", schema, err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	if len(applied) > len(ms) {
		return fmt.Errorf("postgres: the database has %d migrations applied, this build knows %d: it was written by a newer vetted", len(applied), len(ms))
	}
	for _, m := range migrate.Pending(ms, applied) {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, s.now()); err != nil {
			return fmt.Errorf("postgres: record migration %d: %w", m.Version, err)
		}
		s.log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
