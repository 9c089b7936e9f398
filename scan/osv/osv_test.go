package osv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/osv"
)

func TestDecodeRecord(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"valid", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`, ""},
		{"not JSON", `{"id":`, "invalid OSV record"},
		{"no id", `{"modified":"2024-01-01T00:00:00Z"}`, "no id"},
		{"no modified", `{"id":"X-1"}`, "no modified time"},
		{"unknown range type", `{"id":"X-1","modified":"m","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"DATE","events":[]}]}]}`, `unknown range type "DATE"`},
		{"two fields in one event", `{"id":"X-1","modified":"m","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`, "exactly one of"},
		{"wrong type", `{"id":5,"modified":"m"}`, "invalid OSV record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := osv.DecodeRecord([]byte(tc.in))
			if tc.msg == "" {
				if err != nil || r.ID != "X-1" {
					t.Fatalf("got %v, %v", r, err)
				}
				return
			}
			if !errors.Is(err, osv.ErrInvalidRecord) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalidRecord with %q", err, tc.msg)
			}
		})
	}
	if _, err := osv.DecodeRecord(make([]byte, osv.MaxRecordBytes+1)); !errors.Is(err, osv.ErrInvalidRecord) {
		t.Errorf("oversized record: %v", err)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"id":"X-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"a"},"versions":["1.0"],"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"limit":"abc"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := osv.DecodeRecord(data)
		if err != nil {
			return
		}
		if r.ID == "" || r.Modified == "" {
			t.Fatalf("accepted a record without id or modified: %+v", r)
		}
	})
}

func rec(id, eco, name string) osvtest.Record {
	return osvtest.Record{Name: id + ".json", Data: []byte(`{"id":"` + id + `","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"` + eco + `","name":"` + name + `"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`)}
}

func walkIDs(t *testing.T, s *osv.Snapshot) []string {
	t.Helper()
	var ids []string
	err := s.Walk(context.Background(), func(e osv.Entry) error {
		r, err := osv.DecodeRecord(e.Data)
		if err != nil {
			return err
		}
		ids = append(ids, e.Ecosystem+":"+r.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestOpenLayouts(t *testing.T) {
	recs := map[string][]osvtest.Record{"npm": {rec("N-1", "npm", "a")}, "Go": {rec("G-1", "Go", "b")}}
	osvDev, scalibr := t.TempDir(), t.TempDir()
	osvtest.WriteMirror(t, osvDev, "", recs)
	osvtest.WriteMirror(t, scalibr, "osv-scalibr", recs)
	// Loose records: one under an ecosystem directory (covers it), one at the top.
	os.MkdirAll(filepath.Join(osvDev, "PyPI"), 0o755)
	os.WriteFile(filepath.Join(osvDev, "PyPI", "P-1.json"), rec("P-1", "PyPI", "c").Data, 0o644)
	os.WriteFile(filepath.Join(osvDev, "X-1.json"), rec("X-1", "npm", "d").Data, 0o644)

	a, err := osv.Open(osvDev)
	if err != nil {
		t.Fatal(err)
	}
	b, err := osv.Open(scalibr)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Ecosystems(), ","); got != "Go,PyPI,npm" {
		t.Errorf("osv.dev layout ecosystems %s", got)
	}
	if got := strings.Join(b.Ecosystems(), ","); got != "Go,npm" {
		t.Errorf("osv-scalibr layout ecosystems %s", got)
	}
	if got := strings.Join(walkIDs(t, a), ","); got != "Go:G-1,npm:N-1,PyPI:P-1,:X-1" {
		t.Errorf("records %s", got)
	}
	if a.ID() == b.ID() || !strings.HasPrefix(a.ID(), "sha256:") {
		t.Errorf("ids %s %s", a.ID(), b.ID())
	}
	again, _ := osv.Open(osvDev)
	if again.ID() != a.ID() {
		t.Errorf("id not stable: %s then %s", a.ID(), again.ID())
	}
	os.WriteFile(filepath.Join(osvDev, "X-1.json"), rec("X-1", "npm", "e").Data, 0o644)
	changed, _ := osv.Open(osvDev)
	if changed.ID() == a.ID() {
		t.Error("id did not change with the content")
	}
	// The snapshot opened before the change now fails to read: it no longer matches.
	if err := a.Walk(context.Background(), func(osv.Entry) error { return nil }); !errors.Is(err, osv.ErrCorrupt) {
		t.Errorf("walk after change: %v, want ErrCorrupt", err)
	}
}

func TestOpenErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := osv.Open(empty); !errors.Is(err, osv.ErrNoMirror) || !strings.Contains(err.Error(), "holds no") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := osv.Open(filepath.Join(empty, "missing")); !errors.Is(err, osv.ErrNoMirror) {
		t.Errorf("missing dir: %v", err)
	}
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "npm"), 0o755)
	os.WriteFile(filepath.Join(bad, "npm", "all.zip"), []byte("not a zip"), 0o644)
	s, err := osv.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Walk(context.Background(), func(osv.Entry) error { return nil }); !errors.Is(err, osv.ErrCorrupt) || !strings.Contains(err.Error(), "npm/all.zip") {
		t.Errorf("corrupt zip: %v", err)
	}
}
