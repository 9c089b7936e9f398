package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
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

// create inserts the prepared version v in one transaction under the server's lock, unless
// name+version exists (identical content: the stored version and created=false; different:
// ErrConflict), with its creating audit event ev sealed over v and pkgs, keeps IsLatest
// right, and runs also (when non-nil) in the same transaction before it commits. When seen
// is not nil (v's namespace is new to the look-alike check), it takes the namespace-creation
// lock (the registry_state row, which every write locks last) and checks that no other
// namespace appeared since.
func (s *Store) create(ctx context.Context, v registry.Version, pkgs []registry.PinnedPackage, ev registry.AuditEvent, seen []string, also func(*tx) error) (registry.Version, bool, error) {
	ev, err := registry.WithSeal(ev, registry.SealOf(v, pkgs))
	if err != nil {
		return registry.Version{}, false, err
	}
	var (
		stored  registry.Version
		created bool
	)
	err = s.write(ctx, func(t *tx) (bool, error) {
		created = false
		if err := s.d.LockServers(ctx, t.tx, []string{v.Name}, []any{s.d.Time(v.PublishedAt)}); err != nil {
			return false, err
		}
		existing, err := s.getTx(ctx, t, v.Key())
		switch {
		case err == nil:
			stored = existing
			return false, sameContent(existing, v)
		case !errors.Is(err, registry.ErrNotFound):
			return false, err
		}
		if seen != nil {
			if _, err := t.exec(ctx, `SELECT change_seq FROM registry_state WHERE id = 1`+s.d.ForUpdate); err != nil {
				return false, err
			}
			cur, err := s.namespaces(ctx, t.tx)
			if err != nil {
				return false, err
			}
			if err := registry.NamespacesChanged(v.Name, seen, cur); err != nil {
				return false, err
			}
		}
		sealed, err := s.appendAudit(ctx, t, []registry.AuditEvent{ev})
		if err != nil {
			return false, err
		}
		v.Sealed = &sealed[0]
		if err := s.insertVersions(ctx, t, []registry.Version{v}, ""); err != nil {
			return false, err
		}
		if v.Status == registry.StatusPublished {
			if err := s.recomputeLatest(ctx, t, v.Name); err != nil {
				return false, err
			}
		}
		if also != nil {
			if err := also(t); err != nil {
				return false, err
			}
		}
		stored, err = s.getTx(ctx, t, v.Key())
		created = true
		return true, err
	})
	if err != nil {
		return registry.Version{}, false, err
	}
	return stored, created, nil
}

// lockServer locks name's row until the transaction ends (ErrNotFound when none).
func (s *Store) lockServer(ctx context.Context, t *tx, k registry.Key) error {
	var name string
	err := t.row(ctx, `SELECT name FROM servers WHERE name = ?`+s.d.ForUpdate, k.Name).Scan(&name)
	if err != nil && isNoRows(err) {
		return fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return err
}

// SetStatus changes a version's status and records it (see registry.Store).
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
	err := s.write(ctx, func(t *tx) (bool, error) {
		if err := s.lockServer(ctx, t, k); err != nil {
			return false, err
		}
		old, err := s.getTx(ctx, t, k)
		if err != nil {
			return false, err
		}
		if _, err := t.exec(ctx, `UPDATE versions SET status = ?, updated_at = ?, status_reason = '' WHERE name = ? AND version = ?`,
			string(st), s.d.Time(registry.StoreTime(at)), k.Name, k.Version); err != nil {
			return false, err
		}
		if _, err := s.appendAudit(ctx, t, []registry.AuditEvent{registry.StatusEvent(k, old.Status, st, at)}); err != nil {
			return false, err
		}
		if old.Status == registry.StatusPublished || st == registry.StatusPublished {
			if err := s.recomputeLatest(ctx, t, k.Name); err != nil {
				return false, err
			}
		}
		out, err = s.getTx(ctx, t, k)
		return true, err
	})
	return out, err
}

// CreateVersions records vs in one transaction (see registry.BulkCreator), each with its
// import event; the rows go in with the dialect's bulk insert.
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
	firsts := make([]any, len(groups))
	for i, g := range groups {
		names[i] = g.Name
		firsts[i] = s.d.Time(g.Versions[0].PublishedAt)
	}
	created := 0
	err = s.write(ctx, func(t *tx) (bool, error) {
		created = 0
		if err := s.d.LockServers(ctx, t.tx, names, firsts); err != nil {
			return false, err
		}
		existing, err := s.serverVersions(ctx, t, names)
		if err != nil {
			return false, err
		}
		var (
			news   []registry.Version
			latest []bool
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
				if err := s.setLatest(ctx, t, g.Name, plan.Latest); err != nil {
					return false, err
				}
			}
			for _, v := range plan.New {
				ev, err := registry.WithSeal(registry.ImportEvent(v), registry.SealOf(v, nil))
				if err != nil {
					return false, err
				}
				events = append(events, ev)
				news = append(news, v)
				latest = append(latest, v.Version == plan.Latest)
			}
		}
		if len(news) == 0 {
			return false, nil
		}
		sealed, err := s.appendAudit(ctx, t, events)
		if err != nil {
			return false, err
		}
		rows := make([][]any, len(news))
		for i, v := range news {
			rows[i] = s.versionRow(v, latest[i], sealed[i].Seq)
		}
		if err := s.d.BulkInsert(ctx, t.conn, t.tx, "versions", insertColumnList, rows); err != nil {
			return false, err
		}
		created = len(news)
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	if s.d.AfterBulk != nil {
		if err := s.d.AfterBulk(ctx, s.w, created); err != nil {
			s.log.Warn("after bulk create", "err", err)
		}
	}
	return created, nil
}

func sameContent(stored, v registry.Version) error {
	if stored.ContentDigest == v.ContentDigest {
		return nil
	}
	return fmt.Errorf("version %s@%s already exists with different content (stored %s, submitted %s): %w",
		v.Name, v.Version, stored.ContentDigest, v.ContentDigest, registry.ErrConflict)
}

// serverVersions returns, per server name, what latest selection and conflict checks need
// of every stored version: key, status, digest and publish time.
func (s *Store) serverVersions(ctx context.Context, t *tx, names []string) (map[string][]registry.Version, error) {
	out := map[string][]registry.Version{}
	const chunk = 500
	for i := 0; i < len(names); i += chunk {
		part := names[i:min(i+chunk, len(names))]
		args := make([]any, len(part))
		for j, n := range part {
			args[j] = n
		}
		rows, err := t.query(ctx, `SELECT name, version, status, content_digest, published_at FROM versions WHERE name IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				v      registry.Version
				status string
			)
			if err := rows.Scan(&v.Name, &v.Version, &status, &v.ContentDigest, scanTime{&v.PublishedAt}); err != nil {
				rows.Close()
				return nil, err
			}
			v.Status = registry.Status(status)
			out[v.Name] = append(out[v.Name], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recomputeLatest sets is_latest on the one published version of name that registry.LatestOf
// picks, and clears it everywhere else. The caller holds the server's lock.
func (s *Store) recomputeLatest(ctx context.Context, t *tx, name string) error {
	vs, err := s.serverVersions(ctx, t, []string{name})
	if err != nil {
		return err
	}
	latest, _ := registry.LatestOf(vs[name])
	return s.setLatest(ctx, t, name, latest)
}

// setLatest makes latest (a version string, or "" for none) the only latest version of
// name. The old flag is cleared first: the unique index allows one latest per server.
func (s *Store) setLatest(ctx context.Context, t *tx, name, latest string) error {
	if _, err := t.exec(ctx, `UPDATE versions SET is_latest = ? WHERE name = ? AND is_latest = `+s.d.True+` AND version <> ?`, false, name, latest); err != nil {
		return err
	}
	if latest == "" {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE versions SET is_latest = ? WHERE name = ? AND version = ? AND is_latest <> `+s.d.True, true, name, latest)
	return err
}

// insertColumns are the columns a new version row is written with.
const insertColumns = `name, version, status, server_json, served, vetted, content_digest, published_at, updated_at, is_latest, audit_seq`

var insertColumnList = []string{"name", "version", "status", "server_json", "served", "vetted", "content_digest", "published_at", "updated_at", "is_latest", "audit_seq"}

func (s *Store) versionRow(v registry.Version, latest bool, seq int64) []any {
	return []any{v.Name, v.Version, string(v.Status), v.ServerJSON, v.Served, nullBytes(v.Vetted), v.ContentDigest,
		s.d.Time(v.PublishedAt), s.d.Time(v.UpdatedAt), latest, seq}
}

// insertVersions inserts vs (one new version at a time; is_latest is set afterwards).
func (s *Store) insertVersions(ctx context.Context, t *tx, vs []registry.Version, latest string) error {
	for _, v := range vs {
		if _, err := t.exec(ctx, `INSERT INTO versions (`+insertColumns+`) VALUES (`+placeholders(11)+`)`,
			s.versionRow(v, latest != "" && v.Version == latest, v.Sealed.Seq)...); err != nil {
			return fmt.Errorf("insert %s@%s: %w", v.Name, v.Version, err)
		}
	}
	return nil
}
