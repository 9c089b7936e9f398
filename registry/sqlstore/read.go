package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vetted-dev/vetted/registry"
)

// columns is what every version query selects from versionsSealed, in the order
// scanVersion reads: the row and the audit event that created it.
const columns = `name, version, status, server_json, served, vetted, content_digest, published_at, updated_at, is_latest,
	status_reason, seq, type, subject, data`

// servingColumns is columns for a read that only serves (ListQuery.Serving): the stored
// server.json, most of a row and never served, only where nothing else is served.
const servingColumns = `name, version, status, CASE WHEN length(served) = 0 THEN server_json END, served, vetted, content_digest,
	published_at, updated_at, is_latest, status_reason, seq, type, subject, data`

// versionsSealed is the versions table beside each version's creating audit event.
const versionsSealed = `versions LEFT JOIN audit_events ON audit_events.seq = versions.audit_seq`

type scanner interface{ Scan(dest ...any) error }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func scanVersion(row scanner) (registry.Version, error) {
	var (
		v              registry.Version
		status, reason string
		vetted, served []byte
		seq            sql.NullInt64
		typ, subject   sql.NullString
		data           []byte
	)
	if err := row.Scan(&v.Name, &v.Version, &status, &v.ServerJSON, &served, &vetted, &v.ContentDigest,
		scanTime{&v.PublishedAt}, scanTime{&v.UpdatedAt}, &v.IsLatest, &reason, &seq, &typ, &subject, &data); err != nil {
		return registry.Version{}, err
	}
	v.Status = registry.Status(status)
	v.StatusReason = registry.StatusReason(reason)
	v.Served, v.Vetted = served, vetted
	if seq.Valid {
		v.Sealed = &registry.AuditEvent{Seq: seq.Int64, Type: typ.String, Subject: subject.String, Data: data}
	}
	return v, nil
}

func (s *Store) getTx(ctx context.Context, t *tx, k registry.Key) (registry.Version, error) {
	v, err := scanVersion(t.row(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND version = ?`, k.Name, k.Version))
	if isNoRows(err) {
		return registry.Version{}, fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return v, err
}

// GetVersion returns one version whatever its status.
func (s *Store) GetVersion(ctx context.Context, k registry.Key) (registry.Version, error) {
	if !registry.ValidText(k.Name) || !registry.ValidText(k.Version) {
		return registry.Version{}, fmt.Errorf("version %q@%q: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return s.one(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND version = ?`,
		func() error { return fmt.Errorf("version %s@%s: %w", k.Name, k.Version, registry.ErrNotFound) }, k.Name, k.Version)
}

// LatestPublished returns the latest published version of name.
func (s *Store) LatestPublished(ctx context.Context, name string) (registry.Version, error) {
	if !registry.ValidText(name) {
		return registry.Version{}, fmt.Errorf("latest version of %q: %w", name, registry.ErrNotFound)
	}
	return s.one(ctx, `SELECT `+columns+` FROM `+versionsSealed+` WHERE name = ? AND is_latest = `+s.d.True,
		func() error { return fmt.Errorf("latest version of %s: %w", name, registry.ErrNotFound) }, name)
}

func (s *Store) one(ctx context.Context, query string, notFound func() error, args ...any) (registry.Version, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return registry.Version{}, s.errorf("%w", err)
	}
	v, err := scanVersion(st.QueryRowContext(ctx, args...))
	if isNoRows(err) {
		return registry.Version{}, notFound()
	}
	if err != nil {
		return registry.Version{}, s.errorf("%w", err)
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
	sts := registry.ListQuery{Statuses: statuses}.StatusesOrPublished()
	query := `SELECT ` + columns + ` FROM ` + versionsSealed + ` WHERE name = ? AND status IN (` + placeholders(len(sts)) + `) ORDER BY published_at, version`
	vs, err := s.list(ctx, query, append([]any{name}, statusArgs(sts)...)...)
	if err != nil {
		return nil, s.errorf("versions of %s: %w", name, err)
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
	sts := q.StatusesOrPublished()
	where := []string{`status IN (` + placeholders(len(sts)) + `)`}
	args := statusArgs(sts)
	if q.LatestOnly {
		where = append(where, `is_latest = `+s.d.True)
	}
	if q.Version != "" {
		where = append(where, `version = ?`)
		args = append(args, q.Version)
	}
	if q.After != nil {
		where = append(where, `name >= ? AND (name > ? OR version > ?)`)
		args = append(args, q.After.Name, q.After.Name, q.After.Version)
	}
	var search SearchCond
	if q.Search != "" {
		var err error
		search, err = s.searchCond(ctx, q.Search)
		if err != nil {
			return nil, false, s.errorf("list versions: search %q: %w", q.Search, err)
		}
		where = append(where, `name IN (SELECT name FROM servers WHERE `+search.Cond+`)`)
		args = append(args, search.Args...)
	}
	if !q.UpdatedSince.IsZero() {
		where = append(where, `updated_at >= ?`)
		args = append(args, s.d.Time(q.UpdatedSince.UTC()))
	}
	// The limit is part of the text (one statement per limit; Validate bounds it): SQLite
	// plans with a bound LIMIT's value and so recompiles the statement at every execution.
	cols := columns
	if q.Serving {
		cols = servingColumns
	}
	query := `SELECT ` + cols + ` FROM ` + versionsSealed + ` WHERE ` + strings.Join(where, ` AND `) +
		` ORDER BY name, version LIMIT ` + strconv.Itoa(q.Limit+1)
	var (
		vs  []registry.Version
		err error
	)
	switch {
	case search.Generic && s.g != nil:
		// Prepared on the generic pool's connection (pgx caches it there) and planned once.
		vs, err = s.rows(s.g.QueryContext(ctx, s.q(query), args...))
	case q.Search != "" && s.d.PlanWithValues != nil:
		vs, err = s.rows(s.r.QueryContext(ctx, s.q(query), append(append([]any{}, s.d.PlanWithValues...), args...)...))
	default:
		vs, err = s.list(ctx, query, args...)
	}
	if err != nil {
		return nil, false, s.errorf("list versions: %w", err)
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
		return 0, s.errorf("change seq: %w", err)
	}
	var n int64
	if err := st.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, s.errorf("change seq: %w", err)
	}
	return n, nil
}

// searchCond returns the condition on servers.name that keeps the names containing term.
func (s *Store) searchCond(ctx context.Context, term string) (SearchCond, error) {
	if s.d.SearchNarrow != nil {
		return s.d.SearchNarrow(ctx, s.r, term)
	}
	cond, args := s.d.SearchFilter(term)
	return SearchCond{Cond: cond, Args: args}, nil
}

func (s *Store) list(ctx context.Context, query string, args ...any) ([]registry.Version, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.rows(st.QueryContext(ctx, args...))
}

func (s *Store) rows(rows *sql.Rows, err error) ([]registry.Version, error) {
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

// EscapeLike escapes LIKE's wildcards (with backslash as the escape character) so that a
// pattern is a plain substring match.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

// likeEscaper is built once: building a Replacer per search cost a tenth of a search's
// allocations.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ScanReports returns the stored scan report of every version in statuses (default
// published), in (name, version) order.
func (s *Store) ScanReports(ctx context.Context, statuses ...registry.Status) ([]registry.StoredReport, error) {
	if len(statuses) == 0 {
		statuses = []registry.Status{registry.StatusPublished}
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT v.name, v.version, v.status, r.scan_report
		FROM versions v JOIN version_records r ON r.name = v.name AND r.version = v.version
		WHERE v.status IN (`+placeholders(len(statuses))+`) AND r.scan_report IS NOT NULL
		ORDER BY v.name, v.version`), statusArgs(statuses)...)
	if err != nil {
		return nil, s.errorf("scan reports: %w", err)
	}
	defer rows.Close()
	var out []registry.StoredReport
	for rows.Next() {
		var sr registry.StoredReport
		var status string
		var rep []byte
		if err := rows.Scan(&sr.Key.Name, &sr.Key.Version, &status, &rep); err != nil {
			return nil, s.errorf("scan reports: %w", err)
		}
		sr.Status, sr.Report = registry.Status(status), rep
		out = append(out, sr)
	}
	return out, rows.Err()
}

// CountByStatus returns how many versions are in each status.
func (s *Store) CountByStatus(ctx context.Context) (map[registry.Status]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM versions GROUP BY status`)
	if err != nil {
		return nil, s.errorf("count by status: %w", err)
	}
	defer rows.Close()
	out := map[registry.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, s.errorf("count by status: %w", err)
		}
		out[registry.Status(st)] = n
	}
	return out, rows.Err()
}
