package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/scan"
)

func TestMirrorReload(t *testing.T) {
	dir := t.TempDir()
	if err := writeMirror(dir); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := scan.OpenMirror(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := m.Current()
	if d, err := m.Reload(ctx); err != nil || d != nil {
		t.Fatalf("reload of an unchanged mirror: delta %v, err %v", d, err)
	}
	// A new record arrives (loose file in the ecosystem directory).
	rec := `{"id":"GHSA-new","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "npm", "GHSA-new.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := m.Reload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d == nil || d.Changed != 1 || m.Current() == first || m.Current().SnapshotID() == first.SnapshotID() {
		t.Fatalf("reload after a change: delta %+v", d)
	}
	// A broken mirror leaves the current index in use.
	os.WriteFile(filepath.Join(dir, "npm", "all.zip"), []byte("garbage"), 0o644)
	cur := m.Current()
	if _, err := m.Reload(ctx); err == nil {
		t.Fatal("reload of a corrupt mirror succeeded")
	}
	if m.Current() != cur {
		t.Error("a failed reload replaced the current index")
	}
}
