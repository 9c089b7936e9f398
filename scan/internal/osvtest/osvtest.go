// Package osvtest builds OSV mirror fixtures for tests: all.zip archives from records (the
// shared real records or synthetic ones), in the osv.dev or osv-scanner layout. It is
// test support only and imports nothing heavy.
package osvtest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
)

// Record is one record file: its name in the archive and its bytes.
type Record struct {
	Name string
	Data []byte
}

// SharedRecords reads the shared OSV records (../shared/testdata/osv/*.json) grouped by
// ecosystem the way osv.dev builds its archives: a record is in the archive of every ecosystem
// one of its affected packages belongs to.
func SharedRecords(t testing.TB) map[string][]Record {
	t.Helper()
	dir := testenv.SharedTestdata(t, "osv")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shared OSV records in %s: %v", dir, err)
	}
	out := map[string][]Record{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Affected []struct {
				Package struct{ Ecosystem string } `json:"package"`
			} `json:"affected"`
		}
		if err := json.Unmarshal(data, &r); err != nil || len(r.Affected) == 0 {
			t.Fatalf("%s: not an OSV record with affected[]: %v", f, err)
		}
		seen := map[string]bool{}
		for _, a := range r.Affected {
			eco, _, _ := strings.Cut(a.Package.Ecosystem, ":")
			if eco != "" && !seen[eco] {
				seen[eco] = true
				out[eco] = append(out[eco], Record{Name: filepath.Base(f), Data: data})
			}
		}
	}
	return out
}

// Zip builds an all.zip archive from records.
func Zip(t testing.TB, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	sorted := append([]Record(nil), recs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, r := range sorted {
		w, err := zw.Create(r.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(r.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteMirror writes DIR/<prefix>/<Ecosystem>/all.zip for every ecosystem. prefix is "" for
// the osv.dev layout and "osv-scalibr" for osv-scanner's offline layout.
func WriteMirror(t testing.TB, dir, prefix string, byEco map[string][]Record) {
	t.Helper()
	for eco, recs := range byEco {
		d := filepath.Join(dir, prefix, eco)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "all.zip"), Zip(t, recs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
