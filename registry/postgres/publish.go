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

var (
	_ registry.PublishStore   = (*Store)(nil)
	_ registry.EvidenceStore  = (*Store)(nil)
	_ registry.LifecycleStore = (*Store)(nil)
)

// Namespaces returns every namespace that has at least one version.
func (s *Store) Namespaces(ctx context.Context) ([]string, error) {
	out, err := namespaces(ctx, s.pool)
	return out, wrap(err)
}

func namespaces(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT split_part(name, '/', 1) FROM servers ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CommitPublication writes p in one transaction (see registry.PublishStore). Concurrent
// publishes of one version, from any number of processes, serialize on the server's row
// lock: exactly one inserts, the others see its row and answer idempotent or conflicting.
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
	return s.create(ctx, v, p.Packages, p.Audit, seen, func(tx pgx.Tx) error {
		for _, pp := range p.Packages {
			if _, err := tx.Exec(ctx, `INSERT INTO version_packages (name, version, idx, identifier, digest, pinned) VALUES ($1, $2, $3, $4, $5, $6)`,
				v.Name, v.Version, pp.Index, pp.Identifier, pp.Digest, pp.Pinned); err != nil {
				return fmt.Errorf("insert package %d: %w", pp.Index, err)
			}
		}
		for _, b := range p.Blobs {
			if _, err := tx.Exec(ctx, `INSERT INTO evidence_blobs (digest, media_type, data, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING`,
				b.Digest, b.MediaType, b.Data, v.PublishedAt); err != nil {
				return fmt.Errorf("insert blob %s: %w", b.Digest, err)
			}
		}
		return insertRecord(ctx, tx, v, p.Record)
	})
}

func insertRecord(ctx context.Context, tx pgx.Tx, v registry.Version, r registry.VersionRecord) error {
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
	_, err = tx.Exec(ctx, `INSERT INTO version_records (name, version, decision, checks, actor, decided_at, verification,
		provenance, sbom_packages, scan_snapshot, scan_report, scan_summary, tool_manifest_digest, tool_manifest, tool_report, vsa, evidence)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		v.Name, v.Version, string(r.Decision), checks, r.Actor, registry.StoreTime(decided), nullBytes(r.Verification),
		nullBytes(r.Provenance), nullBytes(r.SBOMPackages), nullString(r.ScanSnapshot), nullBytes(r.ScanReport), nullBytes(r.ScanSummary),
		nullString(r.ToolManifestDigest), nullBytes(r.ToolManifest), nullBytes(r.ToolReport), nullBytes(r.VSA), ev)
	if err != nil {
		return fmt.Errorf("insert record of %s@%s: %w", v.Name, v.Version, err)
	}
	return nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// tx runs fn in a transaction that commits whatever fn did (unlike write, it does not bump
// the change sequence: for writes clients cannot see, such as audit events and job claims).
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || attempt == retries || !retryable(err) {
			return wrap(err)
		}
	}
}

// AppendAudit seals e onto the chain and stores it.
func (s *Store) AppendAudit(ctx context.Context, e registry.AuditEvent) (registry.AuditEvent, error) {
	var out registry.AuditEvent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = appendAuditTx(ctx, tx, e)
		return err
	})
	return out, err
}

// appendAuditTx locks the chain's head row (so that appends from every process extend the
// chain one at a time), seals e after the newest event once that event matches the head row,
// inserts it and moves the head.
func appendAuditTx(ctx context.Context, tx pgx.Tx, e registry.AuditEvent) (registry.AuditEvent, error) {
	out, err := appendAuditBatch(ctx, tx, []registry.AuditEvent{e})
	if err != nil {
		return registry.AuditEvent{}, err
	}
	return out[0], nil
}

// appendAuditBatch appends es in order (see appendAuditTx); more than a few go in with COPY.
func appendAuditBatch(ctx context.Context, tx pgx.Tx, es []registry.AuditEvent) ([]registry.AuditEvent, error) {
	var (
		headSeq  int64
		headHash string
		prev     *registry.AuditEvent
	)
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&headSeq, &headHash); err != nil {
		return nil, fmt.Errorf("audit head: %w", err)
	}
	last, err := scanAudit(tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY seq DESC LIMIT 1`))
	switch {
	case err == nil:
		prev = &last
	case !errors.Is(err, pgx.ErrNoRows):
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
	if len(es) < 4 {
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r...); err != nil {
				return nil, fmt.Errorf("append audit event: %w", err)
			}
		}
	} else if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"}, []string{"seq", "time", "type", "actor", "subject", "data", "prev", "hash"},
		pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("append audit events: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, prev.Seq, prev.Hash); err != nil {
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
	if err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("postgres: audit head: %w", err)
	}
	return seq, hash, nil
}

const auditColumns = `seq, time, type, actor, subject, data, prev, hash`

func scanAudit(row pgx.Row) (registry.AuditEvent, error) {
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
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []registry.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err())
}

const recordColumns = `name, version, decision, checks, actor, decided_at, verification, provenance, sbom_packages, scan_snapshot,
	scan_report, scan_summary, tool_manifest_digest, tool_manifest, tool_report, vsa, evidence`

// VersionRecord returns the evidence record of a version.
func (s *Store) VersionRecord(ctx context.Context, k registry.Key) (registry.VersionRecord, error) {
	var (
		r                    registry.VersionRecord
		decision             string
		checks, ev           []byte
		snapshot, toolDigest *string
	)
	err := s.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM version_records WHERE name = $1 AND version = $2`, k.Name, k.Version).Scan(
		&r.Name, &r.Version, &decision, &checks, &r.Actor, &r.DecidedAt, (*[]byte)(&r.Verification), (*[]byte)(&r.Provenance),
		(*[]byte)(&r.SBOMPackages), &snapshot, (*[]byte)(&r.ScanReport), (*[]byte)(&r.ScanSummary), &toolDigest,
		(*[]byte)(&r.ToolManifest), (*[]byte)(&r.ToolReport), (*[]byte)(&r.VSA), &ev)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.VersionRecord{}, fmt.Errorf("record of %s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	if err != nil {
		return registry.VersionRecord{}, wrap(fmt.Errorf("record of %s@%s: %w", k.Name, k.Version, err))
	}
	r.Decision = registry.Decision(decision)
	r.DecidedAt = r.DecidedAt.UTC()
	if snapshot != nil {
		r.ScanSnapshot = *snapshot
	}
	if toolDigest != nil {
		r.ToolManifestDigest = *toolDigest
	}
	if err := json.Unmarshal(checks, &r.Checks); err != nil {
		return registry.VersionRecord{}, fmt.Errorf("postgres: record of %s@%s: checks: %w", k.Name, k.Version, err)
	}
	if len(ev) > 0 {
		if err := json.Unmarshal(ev, &r.Evidence); err != nil {
			return registry.VersionRecord{}, fmt.Errorf("postgres: record of %s@%s: evidence: %w", k.Name, k.Version, err)
		}
	}
	return r, nil
}

// PinnedPackages returns the pinned packages of a version, by index.
func (s *Store) PinnedPackages(ctx context.Context, k registry.Key) ([]registry.PinnedPackage, error) {
	return pinnedPackages(ctx, s.pool, k)
}

func pinnedPackages(ctx context.Context, q querier, k registry.Key) ([]registry.PinnedPackage, error) {
	rows, err := q.Query(ctx, `SELECT idx, identifier, digest, pinned FROM version_packages WHERE name = $1 AND version = $2 ORDER BY idx`, k.Name, k.Version)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []registry.PinnedPackage
	for rows.Next() {
		var p registry.PinnedPackage
		if err := rows.Scan(&p.Index, &p.Identifier, &p.Digest, &p.Pinned); err != nil {
			return nil, wrap(err)
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err())
}

// Blob returns an evidence blob by digest.
func (s *Store) Blob(ctx context.Context, digest string) (registry.Blob, error) {
	b := registry.Blob{Digest: digest}
	err := s.pool.QueryRow(ctx, `SELECT media_type, data FROM evidence_blobs WHERE digest = $1`, digest).Scan(&b.MediaType, &b.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Blob{}, fmt.Errorf("blob %s: %w", digest, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Blob{}, wrap(err)
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
	err := s.write(ctx, func(tx pgx.Tx) (bool, error) {
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM servers WHERE name = $1 FOR UPDATE`, t.Key.Name).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, fmt.Errorf("version %s@%s: %w", t.Key.Name, t.Key.Version, registry.ErrNotFound)
		}
		if err != nil {
			return false, err
		}
		old, err := getVersion(ctx, tx, t.Key)
		if err != nil {
			return false, err
		}
		if err := registry.CheckFrom(old, t); err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE versions SET status = $1, updated_at = $2, vetted = COALESCE($3, vetted) WHERE name = $4 AND version = $5`,
			string(t.To), registry.StoreTime(at), nullBytes(t.Vetted), t.Key.Name, t.Key.Version); err != nil {
			return false, err
		}
		if t.Scan != nil {
			if _, err := tx.Exec(ctx, `UPDATE version_records SET scan_snapshot = $1, scan_report = $2, scan_summary = $3 WHERE name = $4 AND version = $5`,
				t.Scan.Snapshot, nullBytes(t.Scan.Report), nullBytes(t.Scan.Summary), t.Key.Name, t.Key.Version); err != nil {
				return false, err
			}
		}
		if len(t.VSA) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE version_records SET vsa = $1 WHERE name = $2 AND version = $3`, []byte(t.VSA), t.Key.Name, t.Key.Version); err != nil {
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
		out, err = getVersion(ctx, tx, t.Key)
		return true, err
	})
	return out, err
}

// RescanItems returns the recorded versions in statuses with their SBOM package lists.
func (s *Store) RescanItems(ctx context.Context, statuses ...registry.Status) ([]registry.RescanItem, error) {
	if len(statuses) == 0 {
		statuses = []registry.Status{registry.StatusPublished}
	}
	sts := make([]string, len(statuses))
	for i, st := range statuses {
		sts[i] = string(st)
	}
	rows, err := s.pool.Query(ctx, `SELECT v.name, v.version, v.status, COALESCE(r.scan_snapshot, ''), r.sbom_packages, r.scan_summary
		FROM versions v JOIN version_records r ON r.name = v.name AND r.version = v.version
		WHERE v.status = ANY($1) ORDER BY v.name, v.version`, sts)
	if err != nil {
		return nil, wrap(err)
	}
	var out []registry.RescanItem
	for rows.Next() {
		var it registry.RescanItem
		var st string
		var pk, sum []byte
		if err := rows.Scan(&it.Key.Name, &it.Key.Version, &st, &it.Snapshot, &pk, &sum); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		it.Status, it.SBOMPackages, it.ScanSummary = registry.Status(st), pk, sum
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
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
	nb := notBefore
	if nb.IsZero() {
		nb = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO job_claims (job, holder, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
			WHERE (job_claims.expires_at <= $4 OR job_claims.holder = EXCLUDED.holder) AND job_claims.last_done < $5`,
			job, holder, now.Add(ttl), now, nb)
		ok = tag.RowsAffected() == 1
		return err
	})
	return ok, err
}

// CompleteJob records that holder finished job and releases the claim.
func (s *Store) CompleteJob(ctx context.Context, job, holder string, now time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_claims SET last_done = $1, expires_at = 'epoch' WHERE job = $2 AND holder = $3`, now, job, holder)
		return err
	})
}
