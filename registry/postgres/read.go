package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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

func scanVersion(row pgx.Row) (registry.Version, error) {
	var (
		v            registry.Version
		status       string
		seq          *int64
		typ, subject *string
		data         []byte
	)
	if err := row.Scan(&v.Name, &v.Version, &status, &v.ServerJSON, &v.Served, &v.Vetted, &v.ContentDigest,
		&v.PublishedAt, &v.UpdatedAt, &v.IsLatest, &seq, &typ, &subject, &data); err != nil {
		return registry.Version{}, err
	}
	if seq != nil && typ != nil && subject != nil {
		v.Sealed = &registry.AuditEvent{Seq: *seq, Type: *typ, Subject: *subject, Data: data}
	}
	v.Status = registry.Status(status)
	v.PublishedAt = v.PublishedAt.UTC()
	v.UpdatedAt = v.UpdatedAt.UTC()
	return v, nil
}

// querier is what reads need: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getVersion(ctx context.Context, q querier, k registry.Key) (registry.Version, error) {
	v, err := scanVersion(q.QueryRow(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = $1 AND version = $2`, k.Name, k.Version))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Version{}, fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return v, err
}

// GetVersion returns one version whatever its status.
func (s *Store) GetVersion(ctx context.Context, k registry.Key) (registry.Version, error) {
	if !registry.ValidText(k.Name) || !registry.ValidText(k.Version) {
		return registry.Version{}, fmt.Errorf("version %q@%q: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	v, err := getVersion(ctx, s.pool, k)
	if err != nil {
		return registry.Version{}, wrap(err)
	}
	return v, nil
}

// LatestPublished returns the latest published version of name.
func (s *Store) LatestPublished(ctx context.Context, name string) (registry.Version, error) {
	if !registry.ValidText(name) {
		return registry.Version{}, fmt.Errorf("latest version of %q: %w", name, registry.ErrNotFound)
	}
	v, err := scanVersion(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = $1 AND is_latest`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Version{}, fmt.Errorf("latest version of %s: %w", name, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Version{}, fmt.Errorf("postgres: latest of %s: %w", name, err)
	}
	return v, nil
}

// ListServerVersions returns the versions of name with the given statuses (default
// published), oldest first.
func (s *Store) ListServerVersions(ctx context.Context, name string, statuses ...registry.Status) ([]registry.Version, error) {
	for _, st := range statuses {
		if !st.Valid() {
			return nil, fmt.Errorf("versions of %s: unknown status %q: %w", name, st, registry.ErrInvalid)
		}
	}
	if !registry.ValidText(name) {
		return nil, fmt.Errorf("server %q: %w", name, registry.ErrNotFound)
	}
	sts := statusStrings(registry.ListQuery{Statuses: statuses}.StatusesOrPublished())
	vs, err := s.query(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = $1 AND status = ANY($2) ORDER BY published_at, version`, name, sts)
	if err != nil {
		return nil, fmt.Errorf("postgres: versions of %s: %w", name, err)
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, `status = ANY(`+arg(statusStrings(q.StatusesOrPublished()))+`)`)
	if q.LatestOnly {
		where = append(where, `is_latest`)
	}
	if q.Version != "" {
		where = append(where, `version = `+arg(q.Version))
	}
	if q.After != nil {
		n, v := arg(q.After.Name), arg(q.After.Version)
		where = append(where, `name >= `+n+` AND (name > `+n+` OR version > `+v+`)`)
	}
	if q.Search != "" {
		where = append(where, `name IN (SELECT name FROM servers WHERE name ILIKE `+arg("%"+escapeLike(q.Search)+"%")+` ESCAPE '\')`)
	}
	if !q.UpdatedSince.IsZero() {
		where = append(where, `updated_at >= `+arg(q.UpdatedSince))
	}
	query := `SELECT ` + columns + ` FROM ` + versionsSealed + ` WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY name, version LIMIT ` + arg(q.Limit+1)
	if q.Search != "" {
		// Plan with the pattern in hand: a cached generic plan does not know how selective
		// it is and may walk every version (100× slower on 50,000 versions).
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	vs, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: list versions: %w", err)
	}
	if len(vs) > q.Limit {
		return vs[:q.Limit], true, nil
	}
	return vs, false, nil
}

// ChangeSeq returns the number of writes so far.
func (s *Store) ChangeSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT change_seq FROM registry_state WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: change seq: %w", err)
	}
	return n, nil
}

func (s *Store) query(ctx context.Context, query string, args ...any) ([]registry.Version, error) {
	rows, err := s.pool.Query(ctx, query, args...)
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

func statusStrings(sts []registry.Status) []string {
	out := make([]string, len(sts))
	for i, s := range sts {
		out[i] = string(s)
	}
	return out
}

// escapeLike escapes LIKE's wildcards so that search is a plain substring match.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
