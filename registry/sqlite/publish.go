package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

var (
	_ registry.PublishStore   = (*Store)(nil)
	_ registry.EvidenceStore  = (*Store)(nil)
	_ registry.LifecycleStore = (*Store)(nil)
)

// Namespaces returns every namespace that has at least one version.
func (s *Store) Namespaces(ctx context.Context) ([]string, error) {
	out, err := namespaces(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("sqlite: namespaces: %w", err)
	}
	return out, nil
}

func namespaces(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT substr(name, 1, instr(name, '/') - 1) FROM servers ORDER BY 1`)
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

// CommitPublication writes p in one transaction (see registry.PublishStore).
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
	return s.create(ctx, v, p.Packages, p.Audit, seen, func(tx *sql.Tx) error {
		for _, pp := range p.Packages {
			if _, err := tx.ExecContext(ctx, `INSERT INTO version_packages (name, version, idx, identifier, digest, pinned) VALUES (?, ?, ?, ?, ?, ?)`,
				v.Name, v.Version, pp.Index, pp.Identifier, pp.Digest, pp.Pinned); err != nil {
				return fmt.Errorf("insert package %d: %w", pp.Index, err)
			}
		}
		for _, b := range p.Blobs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO evidence_blobs (digest, media_type, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
				b.Digest, b.MediaType, b.Data, v.PublishedAt.UnixMicro()); err != nil {
				return fmt.Errorf("insert blob %s: %w", b.Digest, err)
			}
		}
		return insertRecord(ctx, tx, v, p.Record)
	})
}

func insertRecord(ctx context.Context, tx *sql.Tx, v registry.Version, r registry.VersionRecord) error {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO version_records (name, version, decision, checks, actor, decided_at, verification,
		provenance, sbom_packages, scan_snapshot, scan_report, scan_summary, tool_manifest_digest, tool_manifest, tool_report, vsa, evidence)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Name, v.Version, string(r.Decision), checks, r.Actor, registry.StoreTime(decided).UnixMicro(), nullBytes(r.Verification),
		nullBytes(r.Provenance), nullBytes(r.SBOMPackages), nullString(r.ScanSnapshot), nullBytes(r.ScanReport), nullBytes(r.ScanSummary),
		nullString(r.ToolManifestDigest), nullBytes(r.ToolManifest), nullBytes(r.ToolReport), nullBytes(r.VSA), ev)
	if err != nil {
		return fmt.Errorf("insert record of %s@%s: %w", v.Name, v.Version, err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// AppendAudit seals e onto the chain and stores it.
func (s *Store) AppendAudit(ctx context.Context, e registry.AuditEvent) (registry.AuditEvent, error) {
	var out registry.AuditEvent
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		var err error
		out, err = appendAuditTx(ctx, tx, e)
		return false, err
	})
	return out, err
}

// appendAuditTx seals e after the newest event, once that event matches the head row (the
// single writer serializes appends), inserts it and moves the head row.
func appendAuditTx(ctx context.Context, tx *sql.Tx, e registry.AuditEvent) (registry.AuditEvent, error) {
	var (
		headSeq  int64
		headHash string
		prev     *registry.AuditEvent
	)
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return registry.AuditEvent{}, fmt.Errorf("audit head: %w", err)
	}
	last, err := scanAudit(tx.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1`))
	switch {
	case err == nil:
		prev = &last
	case !errors.Is(err, sql.ErrNoRows):
		return registry.AuditEvent{}, fmt.Errorf("audit head: %w", err)
	}
	if err := registry.CheckHead(prev, headSeq, headHash); err != nil {
		return registry.AuditEvent{}, err
	}
	sealed, err := registry.SealAudit(prev, e)
	if err != nil {
		return registry.AuditEvent{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sealed.Seq, sealed.Time.UnixMicro(), sealed.Type, sealed.Actor, sealed.Subject, []byte(sealed.Data), sealed.Prev, sealed.Hash); err != nil {
		return registry.AuditEvent{}, fmt.Errorf("append audit event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, sealed.Seq, sealed.Hash); err != nil {
		return registry.AuditEvent{}, fmt.Errorf("audit head: %w", err)
	}
	return sealed, nil
}

// AuditHead returns the head row: the newest event's seq and hash as every append records
// them (0, "" for an empty chain).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var (
		seq  int64
		hash string
	)
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("sqlite: audit head: %w", err)
	}
	return seq, hash, nil
}

const auditColumns = `seq, time, type, actor, subject, data, prev, hash`

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
	rows, err := s.r.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", err)
	}
	defer rows.Close()
	var out []registry.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: audit events: %w", err)
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
		decided              int64
		snapshot, toolDigest sql.NullString
	)
	err := s.r.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM version_records WHERE name = ? AND version = ?`, k.Name, k.Version).Scan(
		&r.Name, &r.Version, &decision, &checks, &r.Actor, &decided, (*[]byte)(&r.Verification), (*[]byte)(&r.Provenance),
		(*[]byte)(&r.SBOMPackages), &snapshot, (*[]byte)(&r.ScanReport), (*[]byte)(&r.ScanSummary), &toolDigest,
		(*[]byte)(&r.ToolManifest), (*[]byte)(&r.ToolReport), (*[]byte)(&r.VSA), &ev)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.VersionRecord{}, fmt.Errorf("record of %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	if err != nil {
		return registry.VersionRecord{}, fmt.Errorf("sqlite: record of %s@%s: %w", k.Name, k.Version, err)
	}
	r.Decision = registry.Decision(decision)
	r.DecidedAt = time.UnixMicro(decided).UTC()
	r.ScanSnapshot, r.ToolManifestDigest = snapshot.String, toolDigest.String
	if err := json.Unmarshal(checks, &r.Checks); err != nil {
		return registry.VersionRecord{}, fmt.Errorf("sqlite: record of %s@%s: checks: %w", k.Name, k.Version, err)
	}
	if len(ev) > 0 {
		if err := json.Unmarshal(ev, &r.Evidence); err != nil {
			return registry.VersionRecord{}, fmt.Errorf("sqlite: record of %s@%s: evidence: %w", k.Name, k.Version, err)
		}
	}
	return r, nil
}

// PinnedPackages returns the pinned packages of a version, by index.
func (s *Store) PinnedPackages(ctx context.Context, k registry.Key) ([]registry.PinnedPackage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT idx, identifier, digest, pinned FROM version_packages WHERE name = ? AND version = ? ORDER BY idx`, k.Name, k.Version)
	if err != nil {
		return nil, fmt.Errorf("sqlite: packages of %s@%s: %w", k.Name, k.Version, err)
	}
	defer rows.Close()
	return scanPinned(rows)
}

func scanPinned(rows *sql.Rows) ([]registry.PinnedPackage, error) {
	var out []registry.PinnedPackage
	for rows.Next() {
		var p registry.PinnedPackage
		if err := rows.Scan(&p.Index, &p.Identifier, &p.Digest, &p.Pinned); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Blob returns an evidence blob by digest.
func (s *Store) Blob(ctx context.Context, digest string) (registry.Blob, error) {
	b := registry.Blob{Digest: digest}
	err := s.r.QueryRowContext(ctx, `SELECT media_type, data FROM evidence_blobs WHERE digest = ?`, digest).Scan(&b.MediaType, &b.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", digest, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Blob{}, fmt.Errorf("sqlite: blob %s: %w", digest, err)
	}
	return b, nil
}

// Transition applies t in one transaction (see registry.LifecycleStore).
func (s *Store) Transition(ctx context.Context, t registry.Transition) (registry.Version, error) {
	if !t.To.Valid() {
		return registry.Version{}, fmt.Errorf("transition of %s@%s: unknown status %q: %w", t.Key.Name, t.Key.Version, t.To, registry.ErrInvalid)
	}
	at := t.At
	if at.IsZero() {
		at = s.now()
	}
	var out registry.Version
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		old, err := getTx(ctx, tx, t.Key)
		if err != nil {
			return false, err
		}
		if err := registry.CheckFrom(old, t); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE versions SET status = ?, updated_at = ?, vetted = COALESCE(?, vetted) WHERE name = ? AND version = ?`,
			string(t.To), registry.StoreTime(at).UnixMicro(), nullBytes(t.Vetted), t.Key.Name, t.Key.Version); err != nil {
			return false, err
		}
		if t.Scan != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE version_records SET scan_snapshot = ?, scan_report = ?, scan_summary = ? WHERE name = ? AND version = ?`,
				t.Scan.Snapshot, nullBytes(t.Scan.Report), nullBytes(t.Scan.Summary), t.Key.Name, t.Key.Version); err != nil {
				return false, err
			}
		}
		if len(t.VSA) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE version_records SET vsa = ? WHERE name = ? AND version = ?`, []byte(t.VSA), t.Key.Name, t.Key.Version); err != nil {
				return false, err
			}
		}
		if old.Status == registry.StatusPublished || t.To == registry.StatusPublished {
			if err := recomputeLatest(ctx, tx, t.Key.Name); err != nil {
				return false, err
			}
		}
		if t.Audit.Type != "" {
			if _, err := appendAuditTx(ctx, tx, t.Audit); err != nil {
				return false, err
			}
		}
		out, err = getTx(ctx, tx, t.Key)
		return true, err
	})
	return out, err
}

// RescanItems returns the recorded versions in statuses with their SBOM package lists.
func (s *Store) RescanItems(ctx context.Context, statuses ...registry.Status) ([]registry.RescanItem, error) {
	if len(statuses) == 0 {
		statuses = []registry.Status{registry.StatusPublished}
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = string(st)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT v.name, v.version, v.status, COALESCE(r.scan_snapshot, ''), r.sbom_packages, r.scan_summary
		FROM versions v JOIN version_records r ON r.name = v.name AND r.version = v.version
		WHERE v.status IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+`) ORDER BY v.name, v.version`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: rescan items: %w", err)
	}
	var out []registry.RescanItem
	for rows.Next() {
		var it registry.RescanItem
		var st string
		var pk, sum []byte
		if err := rows.Scan(&it.Key.Name, &it.Key.Version, &st, &it.Snapshot, &pk, &sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: rescan items: %w", err)
		}
		it.Status, it.SBOMPackages, it.ScanSummary = registry.Status(st), pk, sum
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: rescan items: %w", err)
	}
	for i := range out {
		if out[i].Packages, err = s.PinnedPackages(ctx, out[i].Key); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ClaimJob claims job for holder (see registry.LifecycleStore).
func (s *Store) ClaimJob(ctx context.Context, job, holder string, now time.Time, ttl time.Duration, notBefore time.Time) (bool, error) {
	var ok bool
	err := s.write(ctx, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO job_claims (job, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE (job_claims.expires_at <= ? OR job_claims.holder = excluded.holder) AND job_claims.last_done < ?`,
			job, holder, now.Add(ttl).UnixMicro(), now.UnixMicro(), notBeforeMicro(notBefore))
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return false, err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: claim %s: %w", job, err)
	}
	return ok, nil
}

func notBeforeMicro(t time.Time) int64 {
	if t.IsZero() {
		return 1<<63 - 1
	}
	return t.UnixMicro()
}

// CompleteJob records that holder finished job and releases the claim.
func (s *Store) CompleteJob(ctx context.Context, job, holder string, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `UPDATE job_claims SET last_done = ?, expires_at = 0 WHERE job = ? AND holder = ?`, now.UnixMicro(), job, holder)
		return false, err
	})
}
