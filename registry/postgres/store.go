package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the registry's storage (registry/sqlstore) on PostgreSQL, through pgx's
// database/sql adapter over a pgx pool (so the pool's settings hold). It is safe for
// concurrent use, and several Stores (in several processes) may share one database.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	// generic is a second pool whose sessions plan prepared statements once for all
	// values (plan_cache_mode = force_generic_plan), for the searches whose plan does
	// not depend on their values (sqlstore.SearchCond.Generic); its db is genericDB.
	generic   *pgxpool.Pool
	genericDB *sql.DB
}

var _ registry.Backend = (*Store)(nil)

// Open takes registry/sqlstore's options (sqlstore.WithClock, sqlstore.WithLogger, …);
// these concern PostgreSQL.
var WithSchema, WithMaxConns = sqlstore.WithSchema, sqlstore.WithMaxConns

// Open connects to the database at dsn (a postgres:// URL or key=value string) and applies
// the pending migrations.
func Open(ctx context.Context, dsn string, opts ...sqlstore.Option) (*Store, error) {
	c, err := sqlstore.Apply(sqlstore.Options{}, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep only that it failed.
		return nil, fmt.Errorf("postgres: the database address does not parse: %w", registry.ErrInvalid)
	}
	if c.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{c.Schema}.Sanitize()
	}
	if c.MaxConns > 0 {
		cfg.MaxConns = c.MaxConns
	}
	// The generic pool's connections are opened as searches need them (pgxpool opens none
	// up front), with the same settings and one more run-time parameter.
	gcfg := cfg.Copy()
	gcfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	generic, err := pgxpool.NewWithConfig(ctx, gcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db, gdb := stdlib.OpenDBFromPool(pool), stdlib.OpenDBFromPool(generic)
	if err := sqlstore.Migrate(ctx, db, dialect, migrationFS, lockAndCreateSchema(c.Schema), c.Now, c.Log); err != nil {
		db.Close()
		gdb.Close()
		pool.Close()
		generic.Close()
		return nil, err
	}
	d := c.Searching(dialect)
	if d.SearchNarrow != nil {
		// Each store keeps its own copy of the trigram counts (stores may be on other schemas).
		d.SearchNarrow = newTrigramCounts().SearchNarrow(narrow)
	}
	st := sqlstore.New(db, db, d, c.Now, c.Log)
	st.SetGenericReads(gdb)
	return &Store{Store: st, pool: pool, generic: generic, genericDB: gdb}, nil
}

// lockAndCreateSchema serializes migrators of one schema (the lock is released at commit)
// and creates the schema when one is set.
func lockAndCreateSchema(schema string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('vetted.migrate.' || coalesce(nullif($1, ''), current_schema(), '')))`, schema); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if schema != "" {
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return fmt.Errorf("create schema %q: %w", schema, err)
			}
		}
		return nil
	}
}

// Close closes the store and its pool.
func (s *Store) Close() error {
	err := errors.Join(s.Store.Close(), s.genericDB.Close())
	s.pool.Close()
	s.generic.Close()
	return err
}

// dialect is PostgreSQL's: numbered placeholders, timestamptz times, row locks (FOR UPDATE
// and upserts) for writers in several processes, serialization failures, deadlocks and
// unique violations retried, COPY for bulk inserts.
var dialect = sqlstore.Dialect{
	Name: "postgres",
	MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`,
	Numbered:      true,
	Time:          func(t time.Time) any { return t },
	True:          "true",
	ForUpdate:     " FOR UPDATE",
	NamespaceExpr: `split_part(name, '/', 1)`,
	LockServers: func(ctx context.Context, tx *sql.Tx, names []string, createdAt []any) error {
		ts := make([]time.Time, len(createdAt))
		for i, c := range createdAt {
			ts[i] = c.(time.Time)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO servers (name, created_at)
			SELECT n, c FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS t(n, c, i) ORDER BY i
			ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name`, names, ts)
		return err
	},
	Retryable: func(err error) bool {
		var pg *pgconn.PgError
		if !errors.As(err, &pg) {
			return false
		}
		switch pg.Code {
		case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
			return true
		}
		return false
	},
	BulkInsert: func(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, columns []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	},
	AfterBulk: func(ctx context.Context, db *sql.DB, n int) error {
		if n < 1000 {
			return nil
		}
		// Fresh statistics, so that the planner knows the tables are no longer tiny.
		_, err := db.ExecContext(ctx, `ANALYZE servers, versions`)
		return err
	},
	SearchFilter: searchFilter,
	// SearchNarrow is set per store in Open (its trigram counts are the store's own); this
	// marks that the dialect has one.
	SearchNarrow: func(ctx context.Context, db *sql.DB, term string) (sqlstore.SearchCond, error) {
		return narrow(ctx, newTrigramCounts(), db, term)
	},
	// The scan search was before the index: the same condition on an expression the
	// pg_trgm index does not cover, so every name is read.
	ScanFilter: func(term string) (string, []any) {
		return `(name || '') ILIKE ? ESCAPE '\'`, []any{"%" + sqlstore.EscapeLike(term) + "%"}
	},
	PlanWithValues: []any{pgx.QueryExecModeExec},
	// database/sql gives each query a connection from the pgx pool and closes it after
	// (OpenDBFromPool keeps no idle connections, so that the pool stays the one queue), and
	// closing it closes every sql.Stmt prepared on it: a DEALLOCATE per query, and the next
	// query parsed and planned anew. pgx keeps its own cache of prepared statements on each
	// connection of the pool, which outlives database/sql's hold on it.
	DriverPrepares: true,
}
