package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	var exp *int64
	if d.Expires != nil {
		e := d.Expires.UnixMicro()
		exp = &e
	}
	var out registry.VEXDocument
	var sealed registry.AuditEvent
	err = s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO vex_documents (id, digest, document, statements, products, expires_at, actor, reason, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`, d.ID, d.Digest, []byte(d.Document), stmts, prods, exp,
			d.Actor, d.Reason, registry.AuditTime(d.UploadedAt).UnixMicro())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("VEX document %s already exists: %w", d.ID, registry.ErrConflict)
		}
		if sealed, err = appendAuditTx(ctx, tx, audit); err != nil {
			return err
		}
		out, err = scanVEX(tx.QueryRow(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = $1`, d.ID))
		return err
	})
	return out, sealed, err
}

// GetVEX returns one VEX document.
func (s *Store) GetVEX(ctx context.Context, id string) (registry.VEXDocument, error) {
	d, err := scanVEX(s.pool.QueryRow(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("VEX document %s: %w", id, registry.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("postgres: VEX document %s: %w", id, err)
	}
	return d, nil
}

// ListVEX returns the VEX documents, oldest first.
func (s *Store) ListVEX(ctx context.Context, includeWithdrawn bool) ([]registry.VEXDocument, error) {
	q := `SELECT ` + vexColumns + ` FROM vex_documents`
	if !includeWithdrawn {
		q += ` WHERE withdrawn_at IS NULL`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY uploaded_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: VEX documents: %w", err)
	}
	defer rows.Close()
	out := []registry.VEXDocument{}
	for rows.Next() {
		d, err := scanVEX(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: VEX documents: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// WithdrawVEX marks a document withdrawn and records the audit event in one transaction.
func (s *Store) WithdrawVEX(ctx context.Context, id string, w registry.VEXWithdrawal, audit registry.AuditEvent) (registry.VEXDocument, registry.AuditEvent, error) {
	var out registry.VEXDocument
	var sealed registry.AuditEvent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		d, err := scanVEX(tx.QueryRow(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("VEX document %s: %w", id, registry.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if d.Withdrawn != nil {
			return fmt.Errorf("VEX document %s was already withdrawn at %s: %w", id, d.Withdrawn.At.Format(time.RFC3339), registry.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE vex_documents SET withdrawn_actor = $1, withdrawn_reason = $2, withdrawn_at = $3 WHERE id = $4`,
			w.Actor, w.Reason, registry.AuditTime(w.At).UnixMicro(), id); err != nil {
			return err
		}
		if sealed, err = appendAuditTx(ctx, tx, audit); err != nil {
			return err
		}
		out, err = scanVEX(tx.QueryRow(ctx, `SELECT `+vexColumns+` FROM vex_documents WHERE id = $1`, id))
		return err
	})
	return out, sealed, err
}

func scanVEX(row pgx.Row) (registry.VEXDocument, error) {
	var (
		d                 registry.VEXDocument
		doc, stmts, prods []byte
		exp, wAt          *int64
		wActor, wReason   *string
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
	if exp != nil {
		t := time.UnixMicro(*exp).UTC()
		d.Expires = &t
	}
	if wAt != nil {
		w := registry.VEXWithdrawal{At: time.UnixMicro(*wAt).UTC()}
		if wActor != nil {
			w.Actor = *wActor
		}
		if wReason != nil {
			w.Reason = *wReason
		}
		d.Withdrawn = &w
	}
	return d, nil
}
