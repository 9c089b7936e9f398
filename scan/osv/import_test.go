package osv

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func importRecord(id, modified string, ecosystems ...string) string {
	var aff []string
	for _, e := range ecosystems {
		aff = append(aff, fmt.Sprintf(`{"package":{"ecosystem":%q,"name":"p"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}`, e))
	}
	return fmt.Sprintf(`{"id":%q,"modified":%q,"affected":[%s]}`, id, modified, strings.Join(aff, ","))
}

// ids lists the records of the current snapshot as "ecosystem/id".
func ids(t *testing.T, dir string) []string {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if err := s.Walk(context.Background(), func(e Entry) error {
		r, err := DecodeRecord(e.Data)
		if err != nil {
			return err
		}
		out = append(out, e.Ecosystem+"/"+r.ID+"@"+r.Modified[:4])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	mirror := filepath.Join(t.TempDir(), "osv")
	flat := t.TempDir()
	for name, body := range map[string]string{
		"A-1.json":       importRecord("A-1", "2024-01-01T00:00:00Z", "npm"),
		"A-2.json":       importRecord("A-2", "2024-01-01T00:00:00Z", "PyPI"),
		"sub/A-3.json":   importRecord("A-3", "2024-01-01T00:00:00Z", "Debian:12", "npm"),
		"A-4.json":       `{"id":"A-4","modified":"2024-01-01T00:00:00Z"}`,
		"notes.txt":      "not a record",
		".git/X-1.json":  "hidden, skipped",
		"sub/README.md":  "#",
		"sub/A-5.json.x": "not json",
	} {
		p := filepath.Join(flat, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	res, err := Import(ctx, mirror, []string{flat})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Previous != "" || res.Records["npm"] != 2 || res.Records["PyPI"] != 1 || res.Records["Debian"] != 1 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Unsorted) != 1 || !strings.HasSuffix(res.Unsorted[0], "A-4.json") {
		t.Fatalf("unsorted %v", res.Unsorted)
	}
	if got := res.Snapshot.Ecosystems(); !slices.Equal(got, []string{"Debian", "PyPI", "npm"}) {
		t.Fatalf("ecosystems %v", got)
	}
	want := []string{"Debian/A-3@2024", "PyPI/A-2@2024", "npm/A-1@2024", "npm/A-3@2024"}
	if got := ids(t, mirror); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	first := res.Snapshot.ID()

	// A zip (as osv.dev serves) with a newer A-1 and a Go record: merged into a new snapshot.
	zpath := filepath.Join(t.TempDir(), "all.zip")
	zf, _ := os.Create(zpath)
	zw := zip.NewWriter(zf)
	for id, body := range map[string]string{"A-1": importRecord("A-1", "2025-01-01T00:00:00Z", "npm"), "G-1": importRecord("G-1", "2025-01-01T00:00:00Z", "Go")} {
		w, _ := zw.Create(id + ".json")
		w.Write([]byte(body))
	}
	zw.Close()
	zf.Close()
	res, err = Import(ctx, mirror, []string{zpath})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Previous != first || res.Snapshot.ID() == first {
		t.Fatalf("second import: %+v", res)
	}
	want = []string{"Debian/A-3@2024", "Go/G-1@2025", "PyPI/A-2@2024", "npm/A-1@2025", "npm/A-3@2024"}
	if got := ids(t, mirror); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	for _, e := range res.Snapshot.Manifest.Ecosystems {
		if wantHow := map[string]string{"Debian": "unchanged", "PyPI": "unchanged", "Go": "import", "npm": "import"}[e.Name]; e.Fetch != wantHow {
			t.Errorf("%s: fetch %q, want %q", e.Name, e.Fetch, wantHow)
		}
	}
	second := res.Snapshot.ID()

	// The same again: nothing changes.
	if res, err = Import(ctx, mirror, []string{zpath}); err != nil || res.Changed || res.Snapshot.ID() != second {
		t.Fatalf("repeat: %+v %v", res, err)
	}

	// One invalid record fails the import, names the file, and writes nothing.
	bad := filepath.Join(t.TempDir(), "B-1.json")
	os.WriteFile(bad, []byte(`{"id":"B-1"}`), 0o644)
	_, err = Import(ctx, mirror, []string{zpath, bad})
	if !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "B-1.json") || !strings.Contains(err.Error(), "no modified time") {
		t.Fatalf("invalid record: %v", err)
	}
	if s, err := Open(mirror); err != nil || s.ID() != second {
		t.Fatalf("after a failed import the current snapshot changed: %v", err)
	}
	// Nothing that names an ecosystem: refused.
	if _, err := Import(ctx, t.TempDir(), []string{filepath.Join(flat, "A-4.json")}); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "names an ecosystem") {
		t.Fatalf("no ecosystem: %v", err)
	}
	if _, err := Import(ctx, mirror, []string{filepath.Join(flat, "notes.txt")}); err == nil || !strings.Contains(err.Error(), "want a directory, a .zip archive or a .json record") {
		t.Fatalf("bad source: %v", err)
	}
}

// A mirror in the plain layout keeps what it covered when it first gets snapshots.
func TestImportFoldsAPlainMirror(t *testing.T) {
	mirror := t.TempDir()
	os.MkdirAll(filepath.Join(mirror, "npm"), 0o755)
	os.WriteFile(filepath.Join(mirror, "npm", "P-1.json"), []byte(importRecord("P-1", "2024-01-01T00:00:00Z", "npm")), 0o644)
	src := filepath.Join(t.TempDir(), "G-1.json")
	os.WriteFile(src, []byte(importRecord("G-1", "2024-01-01T00:00:00Z", "Go")), 0o644)
	if _, err := Import(context.Background(), mirror, []string{src}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(t, mirror), []string{"Go/G-1@2024", "npm/P-1@2024"}; !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
}
