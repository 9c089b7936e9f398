package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// create inserts the prepared version v in one transaction, unless name+version exists
// (identical content: the stored version and created=false; different: ErrConflict), with
// its creating audit event ev sealed over v and pkgs, keeps IsLatest right, and runs also
// (when non-nil) in the same transaction before it commits. When seen is not nil and v's
// namespace is new, it first checks that no other namespace appeared since the look-alike
// check (the single writer serializes namespace creation).
func (s *Store) create(ctx context.Context, v registry.Version, pkgs []registry.PinnedPackage, ev registry.AuditEvent, seen []string, also func(tx *sql.Tx) error) (registry.Version, bool, error) {
	ev, err := registry.WithSeal(ev, registry.SealOf(v, pkgs))
	if err != nil {
		return registry.Version{}, false, err
	}
	var (
		stored  registry.Version
		created bool
	)
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		existing, err := getTx(ctx, tx, v.Key())
		switch {
		case err == nil:
			stored = existing
			return false, sameContent(existing, v)
		case !errors.Is(err, registry.ErrNotFound):
			return false, err
		}
		if seen != nil {
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
		if err := insertVersions(ctx, tx, []registry.Version{v}, ""); err != nil {
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
		stored, err = getTx(ctx, tx, v.Key())
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
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		old, err := getTx(ctx, tx, k)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE versions SET status = ?, updated_at = ? WHERE name = ? AND version = ?`,
			string(st), registry.StoreTime(at).UnixMicro(), k.Name, k.Version); err != nil {
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
		out, err = getTx(ctx, tx, k)
		return true, err
	})
	return out, err
}

// CreateVersions records vs in one transaction (see registry.BulkCreator).
func (s *Store) CreateVersions(ctx context.Context, vs []registry.Version) (int, error) {
	groups, err := registry.PrepareBulk(vs, s.now())
	if err != nil {
		return 0, err
	}
	created := 0
	err = s.write(ctx, func(tx *sql.Tx) (bool, error) {
		for _, g := range groups {
			existing, err := serverVersionsTx(ctx, tx, g.Name)
			if err != nil {
				return false, err
			}
			plan, err := registry.PlanBulk(existing, g.Versions)
			if err != nil {
				return false, err
			}
			if len(plan.New) == 0 {
				continue
			}
			if len(existing) > 0 {
				if err := setLatest(ctx, tx, g.Name, plan.Latest); err != nil {
					return false, err
				}
			}
			for i := range plan.New {
				ev, err := registry.WithSeal(registry.ImportEvent(plan.New[i]), registry.SealOf(plan.New[i], nil))
				if err != nil {
					return false, err
				}
				sealed, err := appendAuditTx(ctx, tx, ev)
				if err != nil {
					return false, err
				}
				plan.New[i].Sealed = &sealed
			}
			if err := insertVersions(ctx, tx, plan.New, plan.Latest); err != nil {
				return false, err
			}
			created += len(plan.New)
		}
		return created > 0, nil
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}

// write runs fn in a write transaction and commits what fn did; when fn reports a change
// visible to clients, the change sequence is bumped in the same transaction. (The PostgreSQL
// store's write rolls back when fn reports no change; its tx commits without a bump.)
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) (changed bool, err error)) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	changed, err := fn(tx)
	if err != nil {
		return wrap(err)
	}
	if changed {
		if _, err := tx.ExecContext(ctx, `UPDATE registry_state SET change_seq = change_seq + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("sqlite: bump change seq: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// wrap prefixes driver errors; registry errors pass through unchanged.
func wrap(err error) error {
	if errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrConflict) || errors.Is(err, registry.ErrInvalid) ||
		errors.Is(err, registry.ErrAuditChain) || errors.Is(err, registry.ErrNamespacesChanged) {
		return err
	}
	return fmt.Errorf("sqlite: %w", err)
}

func sameContent(stored, v registry.Version) error {
	if stored.ContentDigest == v.ContentDigest {
		return nil
	}
	return fmt.Errorf("version %s@%s already exists with different content (stored %s, submitted %s): %w",
		v.Name, v.Version, stored.ContentDigest, v.ContentDigest, registry.ErrConflict)
}

func getTx(ctx context.Context, tx *sql.Tx, k registry.Key) (registry.Version, error) {
	v, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND version = ?`, k.Name, k.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Version{}, fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return v, err
}

// serverVersionsTx returns what latest selection and conflict checks need of every version
// of name: key, status, digest and publish time.
func serverVersionsTx(ctx context.Context, tx *sql.Tx, name string) ([]registry.Version, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version, status, content_digest, published_at FROM versions WHERE name = ?`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []registry.Version
	for rows.Next() {
		v := registry.Version{Name: name}
		var status string
		var pub int64
		if err := rows.Scan(&v.Version, &status, &v.ContentDigest, &pub); err != nil {
			return nil, err
		}
		v.Status = registry.Status(status)
		v.PublishedAt = time.UnixMicro(pub).UTC()
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// recomputeLatest sets is_latest on the one published version of name that registry.LatestOf
// picks, and clears it everywhere else.
func recomputeLatest(ctx context.Context, tx *sql.Tx, name string) error {
	vs, err := serverVersionsTx(ctx, tx, name)
	if err != nil {
		return err
	}
	latest, _ := registry.LatestOf(vs)
	return setLatest(ctx, tx, name, latest)
}

// setLatest makes latest (a version string, or "" for none) the only latest version of
// name. The old flag is cleared first: the unique index allows one latest per server.
func setLatest(ctx context.Context, tx *sql.Tx, name, latest string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE versions SET is_latest = 0 WHERE name = ? AND is_latest = 1 AND version <> ?`, name, latest); err != nil {
		return err
	}
	if latest == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE versions SET is_latest = 1 WHERE name = ? AND version = ? AND is_latest = 0`, name, latest)
	return err
}

// insertVersions inserts vs (all of one server) with is_latest set on the one whose version
// is latest, creating the server row if needed.
func insertVersions(ctx context.Context, tx *sql.Tx, vs []registry.Version, latest string) error {
	if len(vs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO servers (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		vs[0].Name, vs[0].PublishedAt.UnixMicro()); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO versions (`+insertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, v := range vs {
		isLatest := 0
		if latest != "" && v.Version == latest {
			isLatest = 1
		}
		if _, err := st.ExecContext(ctx, v.Name, v.Version, string(v.Status), v.ServerJSON, v.Served, nullBytes(v.Vetted),
			v.ContentDigest, v.PublishedAt.UnixMicro(), v.UpdatedAt.UnixMicro(), isLatest, v.Sealed.Seq); err != nil {
			return fmt.Errorf("insert %s@%s: %w", v.Name, v.Version, err)
		}
	}
	return nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
