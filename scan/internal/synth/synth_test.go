package synth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/internal/synth"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// The generator is deterministic and its variant changes records without changing which
// package versions below 90.0.0 they affect (it appends an interval [90.0.0, 90.1.0), which
// closes ranges that had no fix: versions from 90.1.0 on are resolved). A re-scan finds the
// changed records, and new or resolved findings only where the semantics say so.
func TestVariant(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	m, err := synth.Generate(a, 4000, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Variant(b, 4000, 1, 400); err != nil {
		t.Fatal(err)
	}
	ia, err := scan.OpenIndex(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := scan.OpenIndex(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if ia.Records() != 4000 || ib.Records() != 4000 {
		t.Fatalf("records %d %d", ia.Records(), ib.Records())
	}
	d := match.Diff(ia, ib)
	if d.Changed != 400 {
		t.Errorf("changed %d, want 400", d.Changed)
	}
	pkgs := m.Packages(5000, 7)
	res := ia.Match(pkgs)
	if len(res.Findings) == 0 || len(res.NotAssessed) != 0 {
		t.Fatalf("findings %d, not assessed %d", len(res.Findings), len(res.NotAssessed))
	}
	resolved := 0
	err = d.Rescan(context.Background(), func(yield func(string, []sbom.Package) bool) { yield("x", pkgs) }, func(c match.Change) error {
		for _, f := range c.Resolved {
			if v := strings.TrimPrefix(f.Package.Version, "v"); v < "90.1.0" || len(v) < 6 {
				t.Errorf("resolved %s %s %s", f.Package.Name, f.Package.Version, f.Vulnerability.ID)
			}
			resolved++
		}
		for _, f := range c.New {
			t.Errorf("new %s %s %s", f.Package.Name, f.Package.Version, f.Vulnerability.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d findings at versions ≥ 90.1.0 resolved", resolved)
}
