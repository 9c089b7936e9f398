package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// testMirrorState: the curation state of upstream registries (registry.MirrorStore) round-
// trips with microsecond times, is kept per upstream, and is replaced, not duplicated.
func testMirrorState(t *testing.T, b Backend) {
	ctx := context.Background()
	ps := b.New(t)
	s, ok := ps.(registry.MirrorStore)
	if !ok {
		t.Fatalf("%T does not implement registry.MirrorStore", ps)
	}
	const up, other = "https://registry.example", "https://other.example"
	if _, err := s.MirrorCheckpoint(ctx, up); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("checkpoint of a new upstream: %v, want ErrNotFound", err)
	}
	// A first pass stopped by a bound: no high-water mark yet, a cursor to resume from.
	cp := registry.MirrorCheckpoint{Upstream: up, Cursor: "io.github.a/x:1.0.0", PassMax: at(3), UpdatedAt: at(4)}
	if err := s.SaveMirrorCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	got, err := s.MirrorCheckpoint(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HighWater.IsZero() || got.Cursor != cp.Cursor || !got.PassMax.Equal(at(3)) || !got.UpdatedAt.Equal(at(4)) || got.Report != nil {
		t.Fatalf("checkpoint = %+v, want %+v", got, cp)
	}
	// The pass completes: the mark moves, the cursor is cleared, the report is kept.
	cp = registry.MirrorCheckpoint{Upstream: up, HighWater: at(5), Report: []byte(`{"fetched":2}`), UpdatedAt: at(6)}
	if err := s.SaveMirrorCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	if got, err = s.MirrorCheckpoint(ctx, up); err != nil {
		t.Fatal(err)
	}
	if !got.HighWater.Equal(at(5)) || got.Cursor != "" || !got.PassMax.IsZero() || !bytes.Equal(got.Report, cp.Report) {
		t.Fatalf("checkpoint after a complete pass = %+v, want %+v", got, cp)
	}
	if _, err := s.MirrorCheckpoint(ctx, other); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("another upstream shares the checkpoint: %v", err)
	}
	if err := s.SaveMirrorCheckpoint(ctx, registry.MirrorCheckpoint{}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("checkpoint without an upstream: %v, want ErrInvalid", err)
	}

	k := registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}
	if _, err := s.MirrorEntry(ctx, up, k); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("entry never recorded: %v, want ErrNotFound", err)
	}
	e := registry.MirrorEntry{Upstream: up, Key: k, ContentDigest: digestA, UpstreamUpdatedAt: at(1), Outcome: "rejected", At: at(2)}
	if err := s.RecordMirrorEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.ContentDigest, e.UpstreamUpdatedAt, e.Outcome, e.At = "sha256:"+string(bytes.Repeat([]byte("b"), 64)), at(7), "published", at(8)
	if err := s.RecordMirrorEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	ge, err := s.MirrorEntry(ctx, up, k)
	if err != nil {
		t.Fatal(err)
	}
	if ge.ContentDigest != e.ContentDigest || !ge.UpstreamUpdatedAt.Equal(at(7)) || ge.Outcome != "published" || !ge.At.Equal(at(8)) || ge.Key != k {
		t.Fatalf("entry = %+v, want %+v", ge, e)
	}
	if _, err := s.MirrorEntry(ctx, other, k); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("an entry of one upstream is seen for another: %v", err)
	}
	if err := s.RecordMirrorEntry(ctx, registry.MirrorEntry{Upstream: up, Key: k}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("entry without an outcome: %v, want ErrInvalid", err)
	}
}
