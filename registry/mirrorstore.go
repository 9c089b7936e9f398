package registry

import (
	"context"
	"encoding/json"
	"time"
)

// MirrorCheckpoint is where curation from one upstream registry stands (registry/mirror):
// every upstream entry updated at or before HighWater has been through the pipeline. A pass
// that a bound stopped before the end of the upstream's list leaves Cursor (where to go on)
// and PassMax (the newest updatedAt it saw), so the next run resumes it; HighWater moves to
// PassMax only when a pass reaches the end, because the upstream orders by name, not by time.
type MirrorCheckpoint struct {
	Upstream  string
	HighWater time.Time // zero: never completed a pass (the first run fetches everything)
	Cursor    string    // the upstream's cursor of the unfinished pass ("" when none)
	PassMax   time.Time
	// Report is the last run's report (JSON), kept for operators and the metrics.
	Report    json.RawMessage
	UpdatedAt time.Time
}

// MirrorEntry is what curation did with one upstream version.
type MirrorEntry struct {
	Upstream string
	Key      Key
	// ContentDigest is the canonical digest of the upstream's server.json
	// (CanonicalContentDigest), so that a changed upstream entry is told from a replay.
	ContentDigest string
	// UpstreamUpdatedAt is the entry's updatedAt at the upstream when it was processed.
	UpstreamUpdatedAt time.Time
	// Outcome: published, pending_review, rejected, refused, quarantined.
	Outcome string
	At      time.Time
}

// MirrorStore keeps the curation state of upstream registries.
type MirrorStore interface {
	// MirrorCheckpoint returns the checkpoint of upstream; ErrNotFound when there is none.
	MirrorCheckpoint(ctx context.Context, upstream string) (MirrorCheckpoint, error)
	// SaveMirrorCheckpoint creates or replaces the checkpoint of cp.Upstream.
	SaveMirrorCheckpoint(ctx context.Context, cp MirrorCheckpoint) error
	// MirrorEntry returns what was recorded for k from upstream; ErrNotFound when nothing.
	MirrorEntry(ctx context.Context, upstream string, k Key) (MirrorEntry, error)
	// RecordMirrorEntry creates or replaces the entry of (e.Upstream, e.Key).
	RecordMirrorEntry(ctx context.Context, e MirrorEntry) error
}
