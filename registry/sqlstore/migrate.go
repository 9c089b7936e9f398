package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/vetted-dev/vetted/internal/migrate"
)

// Migrate applies the pending migrations of fsys's "migrations" directory to db in one
// transaction, recording each in schema_migrations (created by d.MigrationsTable).
// prepare, when set, runs first in the same transaction (a lock, a schema).
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, prepare func(context.Context, *sql.Tx) error, now func() time.Time, log *slog.Logger) error {
	ms, err := migrate.Load(fsys, "migrations")
	if err != nil {
		return fmt.Errorf("%s: %w", d.Name, err)
	}
	fail := func(what string, err error) error { return fmt.Errorf("%s: %s: %w", d.Name, what, err) }
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail("migrate", err)
	}
	defer tx.Rollback()
	if prepare != nil {
		if err := prepare(ctx, tx); err != nil {
			return fail("migrate", err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.MigrationsTable); err != nil {
		return fail("migrate", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fail("migrate", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fail("migrate", err)
		}
		applied[v] = true
	}
	rows.Close()
	if len(applied) > len(ms) {
		return fmt.Errorf("%s: the database has %d migrations applied, this build knows %d: it was written by a newer vetted", d.Name, len(applied), len(ms))
	}
	s := &Store{d: d}
	for _, m := range migrate.Pending(ms, applied) {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fail(fmt.Sprintf("migration %04d_%s", m.Version, m.Name), err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.Version, m.Name, d.Time(now())); err != nil {
			return fail(fmt.Sprintf("record migration %d", m.Version), err)
		}
		log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fail("migrate", err)
	}
	return nil
}
