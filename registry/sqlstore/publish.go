package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// Namespaces returns every namespace that has at least one version.
func (s *Store) Namespaces(ctx context.Context) ([]string, error) {
	out, err := s.namespaces(ctx, s.r)
	if err != nil {
		return nil, s.errorf("namespaces: %w", err)
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) namespaces(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT `+s.d.NamespaceExpr+` FROM servers ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ns string
		if err := rows.Scan(&ns); err != nil {
			return nil, err
		}
		out = append(out, ns)
	}
	return out, rows.Err()
}

// CommitPublication writes p in one transaction (see registry.PublishStore). Concurrent
// publishes of one version, from any number of processes, serialize on the server's lock:
// exactly one inserts, the others see its row and answer idempotent or conflicting.
func (s *Store) CommitPublication(ctx context.Context, p registry.Publication) (registry.Version, bool, error) {
	v, err := registry.PrepareNew(p.Version, s.now())
	if err != nil {
		return registry.Version{}, false, err
	}
	for _, b := range p.Blobs {
		if err := b.Check(); err != nil {
			return registry.Version{}, false, err
		}
	}
	var seen []string
	if p.NewNamespace() {
		seen = p.SeenNamespaces
	}
	return s.create(ctx, v, p.Packages, p.Audit, seen, func(t *tx) error {
		for _, pp := range p.Packages {
			if _, err := t.exec(ctx, `INSERT INTO version_packages (name, version, idx, identifier, digest, pinned) VALUES (?, ?, ?, ?, ?, ?)`,
				v.Name, v.Version, pp.Index, pp.Identifier, pp.Digest, pp.Pinned); err != nil {
				return fmt.Errorf("insert package %d: %w", pp.Index, err)
			}
		}
		for _, b := range p.Blobs {
			if _, err := t.exec(ctx, `INSERT INTO evidence_blobs (digest, media_type, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
				b.Digest, b.MediaType, b.Data, s.d.Time(v.PublishedAt)); err != nil {
				return fmt.Errorf("insert blob %s: %w", b.Digest, err)
			}
		}
		return s.insertRecord(ctx, t, v, p.Record)
	})
}

func (s *Store) insertRecord(ctx context.Context, t *tx, v registry.Version, r registry.VersionRecord) error {
	checks, err := json.Marshal(r.Checks)
	if err != nil {
		return err
	}
	ev, err := json.Marshal(r.Evidence)
	if err != nil {
		return err
	}
	decided := r.DecidedAt
	if decided.IsZero() {
		decided = v.PublishedAt
	}
	_, err = t.exec(ctx, `INSERT INTO version_records (`+recordColumns+`) VALUES (`+placeholders(17)+`)`,
		v.Name, v.Version, string(r.Decision), checks, r.Actor, s.d.Time(registry.StoreTime(decided)), nullBytes(r.Verification),
		nullBytes(r.Provenance), nullBytes(r.SBOMPackages), nullString(r.ScanSnapshot), nullBytes(r.ScanReport), nullBytes(r.ScanSummary),
		nullString(r.ToolManifestDigest), nullBytes(r.ToolManifest), nullBytes(r.ToolReport), nullBytes(r.VSA), ev)
	if err != nil {
		return fmt.Errorf("insert record of %s@%s: %w", v.Name, v.Version, err)
	}
	return nil
}

// AppendAudit seals e onto the chain and stores it.
func (s *Store) AppendAudit(ctx context.Context, e registry.AuditEvent) (registry.AuditEvent, error) {
	var out registry.AuditEvent
	err := s.write(ctx, func(t *tx) (bool, error) {
		sealed, err := s.appendAudit(ctx, t, []registry.AuditEvent{e})
		if err != nil {
			return false, err
		}
		out = sealed[0]
		return false, nil
	})
	return out, err
}

// appendAudit locks the chain's head row (so that appends from every process extend the
// chain one at a time), seals es in order after the newest event once that event matches
// the head row, inserts them and moves the head.
func (s *Store) appendAudit(ctx context.Context, t *tx, es []registry.AuditEvent) ([]registry.AuditEvent, error) {
	var (
		headSeq  int64
		headHash string
		prev     *registry.AuditEvent
	)
	if err := t.row(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+s.d.ForUpdate).Scan(&headSeq, &headHash); err != nil {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	last, err := scanAudit(t.row(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1`))
	switch {
	case err == nil:
		prev = &last
	case !isNoRows(err):
		return nil, fmt.Errorf("audit head: %w", err)
	}
	if err := registry.CheckHead(prev, headSeq, headHash); err != nil {
		return nil, err
	}
	out := make([]registry.AuditEvent, len(es))
	rows := make([][]any, len(es))
	for i, e := range es {
		sealed, err := registry.SealAudit(prev, e)
		if err != nil {
			return nil, err
		}
		out[i], prev = sealed, &out[i]
		rows[i] = []any{sealed.Seq, sealed.Time.UnixMicro(), sealed.Type, sealed.Actor, sealed.Subject, []byte(sealed.Data), sealed.Prev, sealed.Hash}
	}
	if len(rows) > 4 {
		if err := s.d.BulkInsert(ctx, t.conn, t.tx, "audit_events", auditColumnList, rows); err != nil {
			return nil, fmt.Errorf("append audit events: %w", err)
		}
	} else {
		for _, r := range rows {
			if _, err := t.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r...); err != nil {
				return nil, fmt.Errorf("append audit event: %w", err)
			}
		}
	}
	if _, err := t.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, prev.Seq, prev.Hash); err != nil {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	return out, nil
}

// AuditHead returns the head row: the newest event's seq and hash as every append records
// them (0, "" for an empty chain).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var (
		seq  int64
		hash string
	)
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", s.errorf("audit head: %w", err)
	}
	return seq, hash, nil
}

const auditColumns = `seq, time, type, actor, subject, data, prev, hash`

var auditColumnList = []string{"seq", "time", "type", "actor", "subject", "data", "prev", "hash"}

func scanAudit(row scanner) (registry.AuditEvent, error) {
	var (
		e    registry.AuditEvent
		t    int64
		data []byte
	)
	if err := row.Scan(&e.Seq, &t, &e.Type, &e.Actor, &e.Subject, &data, &e.Prev, &e.Hash); err != nil {
		return registry.AuditEvent{}, err
	}
	e.Time = time.UnixMicro(t).UTC()
	e.Data = data
	return e, nil
}

// AuditEvents returns up to limit events with Seq > after, in Seq order.
func (s *Store) AuditEvents(ctx context.Context, after int64, limit int) ([]registry.AuditEvent, error) {
	if limit < 1 || limit > 10000 {
		return nil, fmt.Errorf("audit events: limit %d out of 1..10000: %w", limit, registry.ErrInvalid)
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, s.errorf("audit events: %w", err)
	}
	defer rows.Close()
	var out []registry.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, s.errorf("audit events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const recordColumns = `name, version, decision, checks, actor, decided_at, verification, provenance, sbom_packages, scan_snapshot,
	scan_report, scan_summary, tool_manifest_digest, tool_manifest, tool_report, vsa, evidence`

// VersionRecord returns the evidence record of a version.
func (s *Store) VersionRecord(ctx context.Context, k registry.Key) (registry.VersionRecord, error) {
	var (
		r                    registry.VersionRecord
		decision             string
		checks, ev           []byte
		snapshot, toolDigest sql.NullString
	)
	err := s.r.QueryRowContext(ctx, s.q(`SELECT `+recordColumns+` FROM version_records WHERE name = ? AND version = ?`), k.Name, k.Version).Scan(
		&r.Name, &r.Version, &decision, &checks, &r.Actor, scanTime{&r.DecidedAt}, (*[]byte)(&r.Verification), (*[]byte)(&r.Provenance),
		(*[]byte)(&r.SBOMPackages), &snapshot, (*[]byte)(&r.ScanReport), (*[]byte)(&r.ScanSummary), &toolDigest,
		(*[]byte)(&r.ToolManifest), (*[]byte)(&r.ToolReport), (*[]byte)(&r.VSA), &ev)
	if isNoRows(err) {
		return registry.VersionRecord{}, fmt.Errorf("record of %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	if err != nil {
		return registry.VersionRecord{}, s.errorf("record of %s@%s: %w", k.Name, k.Version, err)
	}
	r.Decision = registry.Decision(decision)
	r.ScanSnapshot, r.ToolManifestDigest = snapshot.String, toolDigest.String
	if err := json.Unmarshal(checks, &r.Checks); err != nil {
		return registry.VersionRecord{}, s.errorf("record of %s@%s: checks: %w", k.Name, k.Version, err)
	}
	if len(ev) > 0 {
		if err := json.Unmarshal(ev, &r.Evidence); err != nil {
			return registry.VersionRecord{}, s.errorf("record of %s@%s: evidence: %w", k.Name, k.Version, err)
		}
	}
	return r, nil
}

// PinnedPackages returns the pinned packages of a version, by index.
func (s *Store) PinnedPackages(ctx context.Context, k registry.Key) ([]registry.PinnedPackage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT idx, identifier, digest, pinned FROM version_packages WHERE name = ? AND version = ? ORDER BY idx`), k.Name, k.Version)
	if err != nil {
		return nil, s.errorf("packages of %s@%s: %w", k.Name, k.Version, err)
	}
	defer rows.Close()
	var out []registry.PinnedPackage
	for rows.Next() {
		var p registry.PinnedPackage
		if err := rows.Scan(&p.Index, &p.Identifier, &p.Digest, &p.Pinned); err != nil {
			return nil, s.errorf("packages of %s@%s: %w", k.Name, k.Version, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Blob returns an evidence blob by digest.
func (s *Store) Blob(ctx context.Context, digest string) (registry.Blob, error) {
	b := registry.Blob{Digest: digest}
	err := s.r.QueryRowContext(ctx, s.q(`SELECT media_type, data FROM evidence_blobs WHERE digest = ?`), digest).Scan(&b.MediaType, &b.Data)
	if isNoRows(err) {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", digest, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Blob{}, s.errorf("blob %s: %w", digest, err)
	}
	return b, nil
}

// Transition applies t in one transaction (see registry.LifecycleStore).
func (s *Store) Transition(ctx context.Context, tr registry.Transition) (registry.Version, error) {
	if !tr.To.Valid() {
		return registry.Version{}, fmt.Errorf("transition of %s@%s: unknown status %q: %w", tr.Key.Name, tr.Key.Version, tr.To, registry.ErrInvalid)
	}
	if !tr.Reason.Valid() {
		return registry.Version{}, fmt.Errorf("transition of %s@%s: unknown status reason %q: %w", tr.Key.Name, tr.Key.Version, tr.Reason, registry.ErrInvalid)
	}
	at := tr.At
	if at.IsZero() {
		at = s.now()
	}
	k := tr.Key
	var out registry.Version
	err := s.write(ctx, func(t *tx) (bool, error) {
		if err := s.lockServer(ctx, t, k); err != nil {
			return false, err
		}
		old, err := s.getTx(ctx, t, k)
		if err != nil {
			return false, err
		}
		if err := registry.CheckFrom(old, tr); err != nil {
			return false, err
		}
		reason := tr.Reason
		if tr.To == registry.StatusPublished {
			reason = registry.ReasonNone
		}
		if _, err := t.exec(ctx, `UPDATE versions SET status = ?, updated_at = ?, vetted = COALESCE(?, vetted), status_reason = ? WHERE name = ? AND version = ?`,
			string(tr.To), s.d.Time(registry.StoreTime(at)), nullBytes(tr.Vetted), string(reason), k.Name, k.Version); err != nil {
			return false, err
		}
		if tr.Scan != nil {
			if _, err := t.exec(ctx, `UPDATE version_records SET scan_snapshot = ?, scan_report = ?, scan_summary = ? WHERE name = ? AND version = ?`,
				tr.Scan.Snapshot, nullBytes(tr.Scan.Report), nullBytes(tr.Scan.Summary), k.Name, k.Version); err != nil {
				return false, err
			}
		}
		if len(tr.VSA) > 0 {
			if _, err := t.exec(ctx, `UPDATE version_records SET vsa = ? WHERE name = ? AND version = ?`, []byte(tr.VSA), k.Name, k.Version); err != nil {
				return false, err
			}
		}
		if tr.Exception != nil {
			if err := s.putException(ctx, t, k, tr.Exception); err != nil {
				return false, err
			}
		}
		if tr.EndException != nil {
			if err := s.endException(ctx, t, k, tr.EndException); err != nil {
				return false, err
			}
		}
		if old.Status == registry.StatusPublished || tr.To == registry.StatusPublished {
			if err := s.recomputeLatest(ctx, t, k.Name); err != nil {
				return false, err
			}
		}
		if tr.Audit.Type != "" {
			if _, err := s.appendAudit(ctx, t, []registry.AuditEvent{tr.Audit}); err != nil {
				return false, err
			}
		}
		out, err = s.getTx(ctx, t, k)
		return true, err
	})
	return out, err
}

// RescanItems returns the recorded versions in statuses with their SBOM package lists.
func (s *Store) RescanItems(ctx context.Context, statuses ...registry.Status) ([]registry.RescanItem, error) {
	if len(statuses) == 0 {
		statuses = []registry.Status{registry.StatusPublished}
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT v.name, v.version, v.status, COALESCE(r.scan_snapshot, ''), r.sbom_packages, r.scan_summary
		FROM versions v JOIN version_records r ON r.name = v.name AND r.version = v.version
		WHERE v.status IN (`+placeholders(len(statuses))+`) ORDER BY v.name, v.version`), statusArgs(statuses)...)
	if err != nil {
		return nil, s.errorf("rescan items: %w", err)
	}
	var out []registry.RescanItem
	for rows.Next() {
		var it registry.RescanItem
		var st string
		var pk, sum []byte
		if err := rows.Scan(&it.Key.Name, &it.Key.Version, &st, &it.Snapshot, &pk, &sum); err != nil {
			rows.Close()
			return nil, s.errorf("rescan items: %w", err)
		}
		it.Status, it.SBOMPackages, it.ScanSummary = registry.Status(st), pk, sum
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.errorf("rescan items: %w", err)
	}
	for i := range out {
		if out[i].Packages, err = s.PinnedPackages(ctx, out[i].Key); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ClaimJob claims job for holder (see registry.LifecycleStore). The upsert's row lock makes
// exactly one of several replicas win.
func (s *Store) ClaimJob(ctx context.Context, job, holder string, now time.Time, ttl time.Duration, notBefore time.Time) (bool, error) {
	if notBefore.IsZero() {
		notBefore = farFuture
	}
	var ok bool
	err := s.write(ctx, func(t *tx) (bool, error) {
		res, err := t.exec(ctx, `INSERT INTO job_claims (job, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE (job_claims.expires_at <= ? OR job_claims.holder = excluded.holder) AND job_claims.last_done < ?`,
			job, holder, s.d.Time(now.Add(ttl)), s.d.Time(now), s.d.Time(notBefore))
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return false, err
	})
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", job, err)
	}
	return ok, nil
}

// CompleteJob records that holder finished job and releases the claim.
func (s *Store) CompleteJob(ctx context.Context, job, holder string, now time.Time) error {
	return s.write(ctx, func(t *tx) (bool, error) {
		_, err := t.exec(ctx, `UPDATE job_claims SET last_done = ?, expires_at = ? WHERE job = ? AND holder = ?`,
			s.d.Time(now), s.d.Time(time.Unix(0, 0)), job, holder)
		return false, err
	})
}
