package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// columns is what every version query selects from versionsSealed, in the order
// scanVersion reads: the row and the audit event that created it.
const columns = `name, version, status, server_json, served, vetted, content_digest, published_at, updated_at, is_latest,
	seq, type, subject, data`

// insertColumns are the columns a new version row is written with.
const insertColumns = `name, version, status, server_json, served, vetted, content_digest, published_at, updated_at, is_latest, audit_seq`

// versionsSealed is the versions table beside each version's creating audit event.
const versionsSealed = `versions LEFT JOIN audit_events ON audit_events.seq = versions.audit_seq`

type scanner interface{ Scan(dest ...any) error }

func scanVersion(row scanner) (registry.Version, error) {
	var (
		v              registry.Version
		status         string
		pub, upd       int64
		latest         int
		vetted, served []byte
		seq            sql.NullInt64
		typ, subject   sql.NullString
		data           []byte
	)
	if err := row.Scan(&v.Name, &v.Version, &status, &v.ServerJSON, &served, &vetted, &v.ContentDigest, &pub, &upd, &latest,
		&seq, &typ, &subject, &data); err != nil {
		return registry.Version{}, err
	}
	if seq.Valid {
		v.Sealed = &registry.AuditEvent{Seq: seq.Int64, Type: typ.String, Subject: subject.String, Data: data}
	}
	v.Status = registry.Status(status)
	v.Served = served
	v.Vetted = vetted
	v.PublishedAt = time.UnixMicro(pub).UTC()
	v.UpdatedAt = time.UnixMicro(upd).UTC()
	v.IsLatest = latest == 1
	return v, nil
}

// GetVersion returns one version whatever its status.
func (s *Store) GetVersion(ctx context.Context, k registry.Key) (registry.Version, error) {
	if !registry.ValidText(k.Name) || !registry.ValidText(k.Version) {
		return registry.Version{}, fmt.Errorf("version %q@%q: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	st, err := s.stmt(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND version = ?`)
	if err != nil {
		return registry.Version{}, fmt.Errorf("sqlite: get %s@%s: %w", k.Name, k.Version, err)
	}
	v, err := scanVersion(st.QueryRowContext(ctx, k.Name, k.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Version{}, fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Version{}, fmt.Errorf("sqlite: get %s@%s: %w", k.Name, k.Version, err)
	}
	return v, nil
}

// LatestPublished returns the latest published version of name.
func (s *Store) LatestPublished(ctx context.Context, name string) (registry.Version, error) {
	if !registry.ValidText(name) {
		return registry.Version{}, fmt.Errorf("latest version of %q: %w", name, registry.ErrNotFound)
	}
	st, err := s.stmt(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND is_latest = 1`)
	if err != nil {
		return registry.Version{}, fmt.Errorf("sqlite: latest of %s: %w", name, err)
	}
	v, err := scanVersion(st.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Version{}, fmt.Errorf("latest version of %s: %w", name, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Version{}, fmt.Errorf("sqlite: latest of %s: %w", name, err)
	}
	return v, nil
}

// ListServerVersions returns the versions of name with the given statuses (default
// published), oldest first.
func (s *Store) ListServerVersions(ctx context.Context, name string, statuses ...registry.Status) ([]registry.Version, error) {
	q := registry.ListQuery{Statuses: statuses}
	for _, st := range statuses {
		if !st.Valid() {
			return nil, fmt.Errorf("versions of %s: unknown status %q: %w", name, st, registry.ErrInvalid)
		}
	}
	if !registry.ValidText(name) {
		return nil, fmt.Errorf("server %q: %w", name, registry.ErrNotFound)
	}
	sts := q.StatusesOrPublished()
	query := `SELECT ` + columns + ` FROM ` + versionsSealed + ` WHERE name = ? AND status IN (` + placeholders(len(sts)) + `) ORDER BY published_at, version`
	args := []any{name}
	for _, st := range sts {
		args = append(args, string(st))
	}
	vs, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: versions of %s: %w", name, err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("server %s: %w", name, registry.ErrNotFound)
	}
	return vs, nil
}

// ListVersionsPage returns up to q.Limit versions matching q in (name, version) order.
func (s *Store) ListVersionsPage(ctx context.Context, q registry.ListQuery) ([]registry.Version, bool, error) {
	if err := q.Validate(); err != nil {
		return nil, false, err
	}
	var (
		where []string
		args  []any
	)
	sts := q.StatusesOrPublished()
	where = append(where, `status IN (`+placeholders(len(sts))+`)`)
	for _, st := range sts {
		args = append(args, string(st))
	}
	if q.LatestOnly {
		where = append(where, `is_latest = 1`)
	}
	if q.Version != "" {
		where = append(where, `version = ?`)
		args = append(args, q.Version)
	}
	if q.After != nil {
		where = append(where, `name >= ? AND (name > ? OR version > ?)`)
		args = append(args, q.After.Name, q.After.Name, q.After.Version)
	}
	if q.Search != "" {
		where = append(where, `name IN (SELECT name FROM servers WHERE name LIKE ? ESCAPE '\')`)
		args = append(args, "%"+escapeLike(q.Search)+"%")
	}
	if !q.UpdatedSince.IsZero() {
		where = append(where, `updated_at >= ?`)
		args = append(args, q.UpdatedSince.UTC().UnixMicro())
	}
	query := `SELECT ` + columns + ` FROM ` + versionsSealed + ` WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY name, version LIMIT ?`
	args = append(args, q.Limit+1)
	vs, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: list versions: %w", err)
	}
	if len(vs) > q.Limit {
		return vs[:q.Limit], true, nil
	}
	return vs, false, nil
}

// ChangeSeq returns the number of writes so far.
func (s *Store) ChangeSeq(ctx context.Context) (int64, error) {
	st, err := s.stmt(ctx, `SELECT change_seq FROM registry_state WHERE id = 1`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: change seq: %w", err)
	}
	var n int64
	if err := st.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: change seq: %w", err)
	}
	return n, nil
}

func (s *Store) query(ctx context.Context, query string, args ...any) ([]registry.Version, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []registry.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// escapeLike escapes LIKE's wildcards so that search is a plain substring match.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
