package storetest

import (
	"context"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

func testBulk(t *testing.T, s registry.Store) {
	b, ok := s.(registry.BulkCreator)
	if !ok {
		t.Skip("store has no bulk create (optional)")
	}
	ctx := context.Background()
	a, c := "io.github.acme/a", "io.github.acme/c"
	create(t, s, ver(a, "1.0.0", registry.StatusPublished, 0))
	batch := []registry.Version{
		ver(a, "1.0.0", registry.StatusPublished, 0), // already stored: skipped
		ver(a, "2.0.0", registry.StatusPublished, 1),
		ver(a, "3.0.0", registry.StatusPendingReview, 2),
		ver(c, "0.9.0", registry.StatusPublished, 3),
		ver(c, "0.10.0", registry.StatusPublished, 4),
		ver(c, "0.10.0", registry.StatusPublished, 4), // repeated in the batch: once
	}
	n, err := b.CreateVersions(ctx, batch)
	if err != nil {
		t.Fatalf("CreateVersions: %v", err)
	}
	if n != 4 {
		t.Fatalf("CreateVersions created %d, want 4", n)
	}
	if got := latest(t, s, a); got != "2.0.0" {
		t.Fatalf("latest of %s = %s, want 2.0.0", a, got)
	}
	if got := latest(t, s, c); got != "0.10.0" {
		t.Fatalf("latest of %s = %s, want 0.10.0", c, got)
	}
	old, err := s.GetVersion(ctx, registry.Key{Name: a, Version: "1.0.0"})
	if err != nil || old.IsLatest {
		t.Fatalf("%s@1.0.0 IsLatest=%v err=%v after a newer bulk version, want false", a, old.IsLatest, err)
	}
	if n, err := b.CreateVersions(ctx, batch); err != nil || n != 0 {
		t.Fatalf("repeating the batch: created %d, err %v; want 0, nil", n, err)
	}

	// A conflict anywhere records nothing.
	seq := changeSeq(t, s)
	bad := ver(c, "0.9.0", registry.StatusPublished, 3)
	bad.ServerJSON = []byte(`{"changed":true}`)
	_, err = b.CreateVersions(ctx, []registry.Version{ver("io.github.acme/d", "1.0.0", registry.StatusPublished, 5), bad})
	wantErr(t, "bulk create with a conflicting version", err, registry.ErrConflict, c+"@0.9.0", "different content")
	if _, err := s.GetVersion(ctx, registry.Key{Name: "io.github.acme/d", Version: "1.0.0"}); !errIsNotFound(err) {
		t.Fatalf("a failed bulk create left io.github.acme/d@1.0.0 behind (err %v)", err)
	}
	if n := changeSeq(t, s); n != seq {
		t.Fatalf("ChangeSeq moved from %d to %d on a failed bulk create", seq, n)
	}
	_, err = b.CreateVersions(ctx, []registry.Version{ver(c, "5.0.0", registry.StatusPublished, 6), func() registry.Version {
		v := ver(c, "5.0.0", registry.StatusPublished, 6)
		v.ServerJSON = []byte(`{"other":1}`)
		return v
	}()})
	wantErr(t, "bulk create with one version twice, different content", err, registry.ErrConflict, c+"@5.0.0")
	_, err = b.CreateVersions(ctx, []registry.Version{{Name: c}})
	wantErr(t, "bulk create with an invalid version", err, registry.ErrInvalid, "empty version")
}
