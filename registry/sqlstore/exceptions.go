package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

const exceptionColumns = `id, name, version, findings, actor, reason, created_at, expires_at,
	ended_cause, ended_actor, ended_reason, ended_at`

// putException records e inside a transition's transaction.
func (s *Store) putException(ctx context.Context, t *tx, k registry.Key, e *registry.Exception) error {
	if e.Server != k.Name || e.Version != k.Version {
		return fmt.Errorf("exception %s is for %s@%s, not %s@%s: %w", e.ID, e.Server, e.Version, k.Name, k.Version, registry.ErrInvalid)
	}
	fs, err := json.Marshal(e.Findings)
	if err != nil {
		return err
	}
	var exp any
	if e.Expires != nil {
		exp = e.Expires.UnixMicro()
	}
	res, err := t.exec(ctx, `INSERT INTO exceptions (id, name, version, findings, actor, reason, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, e.ID, e.Server, e.Version, fs, e.Actor, e.Reason,
		registry.AuditTime(e.CreatedAt).UnixMicro(), exp)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("exception %s already exists: %w", e.ID, registry.ErrConflict)
	}
	return nil
}

// endException ends an exception of k inside a transition's transaction.
func (s *Store) endException(ctx context.Context, t *tx, k registry.Key, end *registry.ExceptionEnd) error {
	res, err := t.exec(ctx, `UPDATE exceptions SET ended_cause = ?, ended_actor = ?, ended_reason = ?, ended_at = ?
		WHERE id = ? AND name = ? AND version = ? AND ended_at IS NULL`, end.Cause, end.Actor, end.Reason,
		registry.AuditTime(end.At).UnixMicro(), end.ID, k.Name, k.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("exception %s of %s@%s does not exist or already ended: %w", end.ID, k.Name, k.Version, registry.ErrConflict)
	}
	return nil
}

// Exceptions returns the exceptions q selects, oldest first.
func (s *Store) Exceptions(ctx context.Context, q registry.ExceptionQuery) ([]registry.Exception, error) {
	var where []string
	var args []any
	if q.ID != "" {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	if q.Key != nil {
		where, args = append(where, "name = ? AND version = ?"), append(args, q.Key.Name, q.Key.Version)
	}
	order := " ORDER BY created_at, id"
	if !q.DueAt.IsZero() {
		where = append(where, "ended_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?")
		args = append(args, q.DueAt.UnixMicro())
		order = " ORDER BY expires_at, id"
	}
	query := `SELECT ` + exceptionColumns + ` FROM exceptions`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.errorf("exceptions: %w", err)
	}
	defer rows.Close()
	out := []registry.Exception{}
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, s.errorf("exceptions: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanException(row scanner) (registry.Exception, error) {
	var (
		e                       registry.Exception
		fs                      []byte
		created                 int64
		exp, endAt              sql.NullInt64
		cause, endActor, endWhy sql.NullString
	)
	if err := row.Scan(&e.ID, &e.Server, &e.Version, &fs, &e.Actor, &e.Reason, &created, &exp, &cause, &endActor, &endWhy, &endAt); err != nil {
		return e, err
	}
	if err := json.Unmarshal(fs, &e.Findings); err != nil {
		return e, fmt.Errorf("findings of exception %s: %w", e.ID, err)
	}
	e.CreatedAt = time.UnixMicro(created).UTC()
	if exp.Valid {
		t := time.UnixMicro(exp.Int64).UTC()
		e.Expires = &t
	}
	if endAt.Valid {
		e.Ended = &registry.ExceptionEnd{ID: e.ID, Cause: cause.String, Actor: endActor.String, Reason: endWhy.String, At: time.UnixMicro(endAt.Int64).UTC()}
	}
	return e, nil
}
