package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vetted-dev/vetted/registry"
)

// CreateVersion records v with an import event (see registry.Store).
func (s *Store) CreateVersion(ctx context.Context, v registry.Version) (registry.Version, bool, error) {
	v, err := registry.PrepareNew(v, s.now())
	if err != nil {
		return registry.Version{}, false, err
	}
	return s.create(ctx, v, nil, registry.ImportEvent(v), nil, nil)
}

// create inserts the prepared version v in one transaction under the server's row lock,
// unless name+version exists (identical content: the stored version and created=false;
// different: ErrConflict), with its creating audit event ev sealed over v and pkgs, keeps
// IsLatest right, and runs also (when non-nil) in the same transaction before it commits.
// When seen is not nil and v's namespace is new, it takes the namespace-creation lock (the
// registry_state row, which every write locks last) and checks that no other namespace
// appeared since the look-alike check.
func (s *Store) create(ctx context.Context, v registry.Version, pkgs []registry.PinnedPackage, ev registry.AuditEvent, seen []string, also func(tx pgx.Tx) error) (registry.Version, bool, error) {
	ev, err := registry.WithSeal(ev, registry.SealOf(v, pkgs))
	if err != nil {
		return registry.Version{}, false, err
	}
	var (
		stored  registry.Version
		created bool
	)
	err = s.write(ctx, func(tx pgx.Tx) (bool, error) {
		created = false
		if err := lockServers(ctx, tx, []string{v.Name}, []time.Time{v.PublishedAt}); err != nil {
			return false, err
		}
		existing, err := getVersion(ctx, tx, v.Key())
		switch {
		case err == nil:
			stored = existing
			return false, sameContent(existing, v)
		case !errors.Is(err, registry.ErrNotFound):
			return false, err
		}
		if seen != nil {
			if _, err := tx.Exec(ctx, `SELECT change_seq FROM registry_state WHERE id = 1 FOR UPDATE`); err != nil {
				return false, err
			}
			cur, err := namespaces(ctx, tx)
			if err != nil {
				return false, err
			}
			if err := registry.NamespacesChanged(v.Name, seen, cur); err != nil {
				return false, err
			}
		}
		sealed, err := appendAuditTx(ctx, tx, ev)
		if err != nil {
			return false, err
		}
		v.Sealed = &sealed
		if err := insertVersion(ctx, tx, v); err != nil {
			return false, err
		}
		if v.Status == registry.StatusPublished {
			if err := recomputeLatest(ctx, tx, v.Name); err != nil {
				return false, err
			}
		}
		if also != nil {
			if err := also(tx); err != nil {
				return false, err
			}
		}
		stored, err = getVersion(ctx, tx, v.Key())
		created = true
		return true, err
	})
	if err != nil {
		return registry.Version{}, false, err
	}
	return stored, created, nil
}

// SetStatus changes a version's status (see registry.Store).
func (s *Store) SetStatus(ctx context.Context, k registry.Key, st registry.Status, at time.Time) (registry.Version, error) {
	if !st.Valid() {
		return registry.Version{}, fmt.Errorf("set status of %s@%s: unknown status %q: %w", k.Name, k.Version, st, registry.ErrInvalid)
	}
	if !registry.ValidText(k.Name) || !registry.ValidText(k.Version) {
		return registry.Version{}, fmt.Errorf("version %q@%q: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	if at.IsZero() {
		at = s.now()
	}
	var out registry.Version
	err := s.write(ctx, func(tx pgx.Tx) (bool, error) {
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM servers WHERE name = $1 FOR UPDATE`, k.Name).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
		}
		if err != nil {
			return false, err
		}
		old, err := getVersion(ctx, tx, k)
		if err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE versions SET status = $1, updated_at = $2 WHERE name = $3 AND version = $4`,
			string(st), registry.StoreTime(at), k.Name, k.Version); err != nil {
			return false, err
		}
		if _, err := appendAuditTx(ctx, tx, registry.StatusEvent(k, old.Status, st, at)); err != nil {
			return false, err
		}
		if old.Status == registry.StatusPublished || st == registry.StatusPublished {
			if err := recomputeLatest(ctx, tx, k.Name); err != nil {
				return false, err
			}
		}
		out, err = getVersion(ctx, tx, k)
		return true, err
	})
	return out, err
}

// CreateVersions records vs in one transaction (see registry.BulkCreator). The new rows go
// in with COPY, so that seeding tens of thousands of versions takes seconds.
func (s *Store) CreateVersions(ctx context.Context, vs []registry.Version) (int, error) {
	groups, err := registry.PrepareBulk(vs, s.now())
	if err != nil {
		return 0, err
	}
	if len(groups) == 0 {
		return 0, nil
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name }) // lock order
	names := make([]string, len(groups))
	firsts := make([]time.Time, len(groups))
	for i, g := range groups {
		names[i] = g.Name
		firsts[i] = g.Versions[0].PublishedAt
	}
	created := 0
	err = s.write(ctx, func(tx pgx.Tx) (bool, error) {
		created = 0
		if err := lockServers(ctx, tx, names, firsts); err != nil {
			return false, err
		}
		existing, err := serverVersions(ctx, tx, names)
		if err != nil {
			return false, err
		}
		var (
			rows   [][]any
			events []registry.AuditEvent
		)
		for _, g := range groups {
			plan, err := registry.PlanBulk(existing[g.Name], g.Versions)
			if err != nil {
				return false, err
			}
			if len(plan.New) == 0 {
				continue
			}
			if len(existing[g.Name]) > 0 {
				if err := setLatest(ctx, tx, g.Name, plan.Latest); err != nil {
					return false, err
				}
			}
			for _, v := range plan.New {
				ev, err := registry.WithSeal(registry.ImportEvent(v), registry.SealOf(v, nil))
				if err != nil {
					return false, err
				}
				events = append(events, ev)
				rows = append(rows, []any{v.Name, v.Version, string(v.Status), v.ServerJSON, v.Served, nullBytes(v.Vetted),
					v.ContentDigest, v.PublishedAt, v.UpdatedAt, v.Version == plan.Latest, nil})
			}
		}
		if len(rows) == 0 {
			return false, nil
		}
		sealed, err := appendAuditBatch(ctx, tx, events)
		if err != nil {
			return false, err
		}
		for i := range rows {
			rows[i][10] = sealed[i].Seq
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"versions"}, []string{"name", "version", "status", "server_json", "served",
			"vetted", "content_digest", "published_at", "updated_at", "is_latest", "audit_seq"}, pgx.CopyFromRows(rows)); err != nil {
			return false, err
		}
		created = len(rows)
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	if created >= analyzeAfter {
		// Fresh statistics, so that the planner knows the tables are no longer tiny.
		if _, err := s.pool.Exec(ctx, `ANALYZE servers, versions`); err != nil {
			s.log.Warn("analyze after bulk create", "err", err)
		}
	}
	return created, nil
}

// analyzeAfter is the size of a bulk create after which the tables are analyzed.
const analyzeAfter = 1000

// retries is how many times a write transaction is run again after a serialization
// failure, a deadlock or a unique violation (a row another writer committed first; the
// retry then sees it and answers as idempotent or conflicting).
const retries = 3

// write runs fn in a transaction; when fn reports a change, the change sequence is bumped
// (last, so that its row lock is held only until commit). Otherwise it rolls back.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) (changed bool, err error)) error {
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || attempt == retries || !retryable(err) {
			return wrap(err)
		}
		s.log.Debug("retrying write", "attempt", attempt+1, "err", err)
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(pgx.Tx) (bool, error)) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	changed, err := fn(tx)
	if err != nil || !changed {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE registry_state SET change_seq = change_seq + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump change seq: %w", err)
	}
	return tx.Commit(ctx)
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	switch pg.Code {
	case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
		return true
	}
	return false
}

// wrap prefixes driver errors; registry errors pass through unchanged.
func wrap(err error) error {
	if err == nil || errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrConflict) || errors.Is(err, registry.ErrInvalid) ||
		errors.Is(err, registry.ErrAuditChain) || errors.Is(err, registry.ErrNamespacesChanged) {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

func sameContent(stored, v registry.Version) error {
	if stored.ContentDigest == v.ContentDigest {
		return nil
	}
	return fmt.Errorf("version %s@%s already exists with different content (stored %s, submitted %s): %w",
		v.Name, v.Version, stored.ContentDigest, v.ContentDigest, registry.ErrConflict)
}

// lockServers creates the servers' rows if needed and locks them until the transaction
// ends, in the order given (callers pass names sorted, to avoid deadlocks).
func lockServers(ctx context.Context, tx pgx.Tx, names []string, createdAt []time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO servers (name, created_at)
		SELECT n, c FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS t(n, c, i) ORDER BY i
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name`, names, createdAt)
	return err
}

// serverVersions returns, per server name, what latest selection and conflict checks need
// of every stored version: key, status, digest and publish time.
func serverVersions(ctx context.Context, q querier, names []string) (map[string][]registry.Version, error) {
	rows, err := q.Query(ctx, `SELECT name, version, status, content_digest, published_at FROM versions WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]registry.Version{}
	for rows.Next() {
		var (
			v      registry.Version
			status string
		)
		if err := rows.Scan(&v.Name, &v.Version, &status, &v.ContentDigest, &v.PublishedAt); err != nil {
			return nil, err
		}
		v.Status = registry.Status(status)
		v.PublishedAt = v.PublishedAt.UTC()
		out[v.Name] = append(out[v.Name], v)
	}
	return out, rows.Err()
}

// recomputeLatest sets is_latest on the one published version of name that registry.LatestOf
// picks, and clears it everywhere else. The caller holds the server's row lock.
func recomputeLatest(ctx context.Context, tx pgx.Tx, name string) error {
	vs, err := serverVersions(ctx, tx, []string{name})
	if err != nil {
		return err
	}
	latest, _ := registry.LatestOf(vs[name])
	return setLatest(ctx, tx, name, latest)
}

// setLatest makes latest (a version string, or "" for none) the only latest version of
// name. The old flag is cleared first: the unique index allows one latest per server.
func setLatest(ctx context.Context, tx pgx.Tx, name, latest string) error {
	if _, err := tx.Exec(ctx, `UPDATE versions SET is_latest = false WHERE name = $1 AND is_latest AND version <> $2`, name, latest); err != nil {
		return err
	}
	if latest == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE versions SET is_latest = true WHERE name = $1 AND version = $2 AND NOT is_latest`, name, latest)
	return err
}

func insertVersion(ctx context.Context, tx pgx.Tx, v registry.Version) error {
	_, err := tx.Exec(ctx, `INSERT INTO versions (`+insertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10)`,
		v.Name, v.Version, string(v.Status), v.ServerJSON, v.Served, nullBytes(v.Vetted), v.ContentDigest, v.PublishedAt, v.UpdatedAt, v.Sealed.Seq)
	if err != nil {
		return fmt.Errorf("insert %s@%s: %w", v.Name, v.Version, err)
	}
	return nil
}

func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
