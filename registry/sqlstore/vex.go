package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

const vexColumns = `id, digest, document, statements, products, expires_at, actor, reason, uploaded_at,
	withdrawn_actor, withdrawn_reason, withdrawn_at`

// PutVEX records a VEX document and its audit event in one transaction.
func (s *Store) PutVEX(ctx context.Context, d registry.VEXDocument, audit registry.AuditEvent) (registry.VEXDocument, registry.AuditEvent, error) {
	stmts, err := json.Marshal(d.Statements)
	if err != nil {
		return registry.VEXDocument{}, registry.AuditEvent{}, err
	}
	prods, err := json.Marshal(d.Products)
	if err != nil {
		return registry.VEXDocument{}, registry.AuditEvent{}, err
	}
	var exp any
	if d.Expires != nil {
		exp = d.Expires.UnixMicro()
	}
	var (
		out    registry.VEXDocument
		sealed registry.AuditEvent
	)
	err = s.write(ctx, func(t *tx) (bool, error) {
		res, err := t.exec(ctx, `INSERT INTO vex_documents (id, digest, document, statements, products, expires_at, actor, reason, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, d.ID, d.Digest, []byte(d.Document), stmts, prods, exp,
			d.Actor, d.Reason, registry.AuditTime(d.UploadedAt).UnixMicro())
		if err != nil {
			return false, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return false, fmt.Errorf("VEX document %s already exists: %w", d.ID, registry.ErrConflict)
		}
		es, err := s.appendAudit(ctx, t, []registry.AuditEvent{audit})
		if err != nil {
			return false, err
		}
		sealed = es[0]
		out, err = scanVEX(t.row(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = ?`, d.ID))
		return false, err
	})
	return out, sealed, err
}

// GetVEX returns one VEX document.
func (s *Store) GetVEX(ctx context.Context, id string) (registry.VEXDocument, error) {
	d, err := scanVEX(s.r.QueryRowContext(ctx, s.q(`SELECT `+vexColumns+` FROM vex_documents WHERE id = ?`), id))
	if isNoRows(err) {
		return d, fmt.Errorf("VEX document %s: %w", id, registry.ErrNotFound)
	}
	if err != nil {
		return d, s.errorf("VEX document %s: %w", id, err)
	}
	return d, nil
}

// ListVEX returns the VEX documents, oldest first.
func (s *Store) ListVEX(ctx context.Context, includeWithdrawn bool) ([]registry.VEXDocument, error) {
	q := `SELECT ` + vexColumns + ` FROM vex_documents`
	if !includeWithdrawn {
		q += ` WHERE withdrawn_at IS NULL`
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY uploaded_at, id`)
	if err != nil {
		return nil, s.errorf("VEX documents: %w", err)
	}
	defer rows.Close()
	out := []registry.VEXDocument{}
	for rows.Next() {
		d, err := scanVEX(rows)
		if err != nil {
			return nil, s.errorf("VEX documents: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// WithdrawVEX marks a document withdrawn and records the audit event in one transaction.
func (s *Store) WithdrawVEX(ctx context.Context, id string, w registry.VEXWithdrawal, audit registry.AuditEvent) (registry.VEXDocument, registry.AuditEvent, error) {
	var (
		out    registry.VEXDocument
		sealed registry.AuditEvent
	)
	err := s.write(ctx, func(t *tx) (bool, error) {
		d, err := scanVEX(t.row(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = ?`+s.d.ForUpdate, id))
		if isNoRows(err) {
			return false, fmt.Errorf("VEX document %s: %w", id, registry.ErrNotFound)
		}
		if err != nil {
			return false, err
		}
		if d.Withdrawn != nil {
			return false, fmt.Errorf("VEX document %s was already withdrawn at %s: %w", id, d.Withdrawn.At.Format(time.RFC3339), registry.ErrConflict)
		}
		if _, err := t.exec(ctx, `UPDATE vex_documents SET withdrawn_actor = ?, withdrawn_reason = ?, withdrawn_at = ? WHERE id = ?`,
			w.Actor, w.Reason, registry.AuditTime(w.At).UnixMicro(), id); err != nil {
			return false, err
		}
		es, err := s.appendAudit(ctx, t, []registry.AuditEvent{audit})
		if err != nil {
			return false, err
		}
		sealed = es[0]
		out, err = scanVEX(t.row(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = ?`, id))
		return false, err
	})
	return out, sealed, err
}

func scanVEX(row scanner) (registry.VEXDocument, error) {
	var (
		d                 registry.VEXDocument
		doc, stmts, prods []byte
		exp, wAt          sql.NullInt64
		wActor, wReason   sql.NullString
		uploaded          int64
	)
	if err := row.Scan(&d.ID, &d.Digest, &doc, &stmts, &prods, &exp, &d.Actor, &d.Reason, &uploaded, &wActor, &wReason, &wAt); err != nil {
		return d, err
	}
	d.Document = doc
	if err := json.Unmarshal(stmts, &d.Statements); err != nil {
		return d, fmt.Errorf("statements of %s: %w", d.ID, err)
	}
	if err := json.Unmarshal(prods, &d.Products); err != nil {
		return d, fmt.Errorf("products of %s: %w", d.ID, err)
	}
	d.UploadedAt = time.UnixMicro(uploaded).UTC()
	if exp.Valid {
		t := time.UnixMicro(exp.Int64).UTC()
		d.Expires = &t
	}
	if wAt.Valid {
		d.Withdrawn = &registry.VEXWithdrawal{Actor: wActor.String, Reason: wReason.String, At: time.UnixMicro(wAt.Int64).UTC()}
	}
	return d, nil
}
