package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// MirrorCheckpoint returns the checkpoint of upstream (see registry.MirrorStore).
func (s *Store) MirrorCheckpoint(ctx context.Context, upstream string) (registry.MirrorCheckpoint, error) {
	st, err := s.stmt(ctx, `SELECT high_water, cursor, pass_max, report, updated_at FROM mirror_checkpoints WHERE upstream = ?`)
	if err != nil {
		return registry.MirrorCheckpoint{}, s.errorf("mirror checkpoint: %w", err)
	}
	cp := registry.MirrorCheckpoint{Upstream: upstream}
	var report []byte
	err = st.QueryRowContext(ctx, upstream).Scan(scanTime{&cp.HighWater}, &cp.Cursor, scanTime{&cp.PassMax}, &report, scanTime{&cp.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return registry.MirrorCheckpoint{}, fmt.Errorf("mirror checkpoint of %s: %w", upstream, registry.ErrNotFound)
	}
	if err != nil {
		return registry.MirrorCheckpoint{}, s.errorf("mirror checkpoint: %w", err)
	}
	cp.HighWater, cp.PassMax = zeroBefore1970(cp.HighWater), zeroBefore1970(cp.PassMax)
	if len(report) > 0 {
		cp.Report = report
	}
	return cp, nil
}

// SaveMirrorCheckpoint creates or replaces a checkpoint (see registry.MirrorStore).
func (s *Store) SaveMirrorCheckpoint(ctx context.Context, cp registry.MirrorCheckpoint) error {
	if cp.Upstream == "" {
		return fmt.Errorf("mirror checkpoint: no upstream: %w", registry.ErrInvalid)
	}
	if cp.UpdatedAt.IsZero() {
		cp.UpdatedAt = s.now()
	}
	return s.write(ctx, func(t *tx) (bool, error) {
		_, err := t.exec(ctx, `INSERT INTO mirror_checkpoints (upstream, high_water, cursor, pass_max, report, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (upstream) DO UPDATE SET high_water = excluded.high_water, cursor = excluded.cursor,
			pass_max = excluded.pass_max, report = excluded.report, updated_at = excluded.updated_at`,
			cp.Upstream, s.d.Time(epochIfZero(cp.HighWater)), cp.Cursor, s.d.Time(epochIfZero(cp.PassMax)), nullBytes(cp.Report), s.d.Time(cp.UpdatedAt))
		if err != nil {
			return false, fmt.Errorf("save mirror checkpoint: %w", err)
		}
		return false, nil
	})
}

// MirrorEntry returns what was recorded for one upstream version (see registry.MirrorStore).
func (s *Store) MirrorEntry(ctx context.Context, upstream string, k registry.Key) (registry.MirrorEntry, error) {
	st, err := s.stmt(ctx, `SELECT content_digest, upstream_updated_at, outcome, at FROM mirror_entries WHERE upstream = ? AND name = ? AND version = ?`)
	if err != nil {
		return registry.MirrorEntry{}, s.errorf("mirror entry: %w", err)
	}
	e := registry.MirrorEntry{Upstream: upstream, Key: k}
	err = st.QueryRowContext(ctx, upstream, k.Name, k.Version).Scan(&e.ContentDigest, scanTime{&e.UpstreamUpdatedAt}, &e.Outcome, scanTime{&e.At})
	if errors.Is(err, sql.ErrNoRows) {
		return registry.MirrorEntry{}, fmt.Errorf("mirror entry %s@%s from %s: %w", k.Name, k.Version, upstream, registry.ErrNotFound)
	}
	if err != nil {
		return registry.MirrorEntry{}, s.errorf("mirror entry: %w", err)
	}
	e.UpstreamUpdatedAt = zeroBefore1970(e.UpstreamUpdatedAt)
	return e, nil
}

// RecordMirrorEntry creates or replaces one entry (see registry.MirrorStore).
func (s *Store) RecordMirrorEntry(ctx context.Context, e registry.MirrorEntry) error {
	if e.Upstream == "" || e.Key.Name == "" || e.Key.Version == "" || e.Outcome == "" {
		return fmt.Errorf("mirror entry: upstream, name, version and outcome are required: %w", registry.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	return s.write(ctx, func(t *tx) (bool, error) {
		_, err := t.exec(ctx, `INSERT INTO mirror_entries (upstream, name, version, content_digest, upstream_updated_at, outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (upstream, name, version) DO UPDATE SET content_digest = excluded.content_digest,
			upstream_updated_at = excluded.upstream_updated_at, outcome = excluded.outcome, at = excluded.at`,
			e.Upstream, e.Key.Name, e.Key.Version, e.ContentDigest, s.d.Time(epochIfZero(e.UpstreamUpdatedAt)), e.Outcome, s.d.Time(e.At))
		if err != nil {
			return false, fmt.Errorf("record mirror entry: %w", err)
		}
		return false, nil
	})
}

// The unset times of the mirror tables are stored as the Unix epoch (a value both dialects
// hold) and read back as the zero time.
func epochIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

func zeroBefore1970(t time.Time) time.Time {
	if !t.After(time.Unix(0, 0)) {
		return time.Time{}
	}
	return t
}
