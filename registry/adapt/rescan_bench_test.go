package adapt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// BenchmarkRescanAll: the continuous re-scan of 1,000 published versions (200 npm packages
// each, stored package lists) after a snapshot change that quarantines 10% of them, on SQLite.
func BenchmarkRescanAll(b *testing.B) {
	const versions, pkgs = 1000, 200
	ctx := context.Background()
	mirror := func(fixed string) *match.Index {
		dir := b.TempDir()
		os.MkdirAll(filepath.Join(dir, "npm"), 0o755)
		for i := 0; i < 300; i++ {
			os.WriteFile(filepath.Join(dir, "npm", fmt.Sprintf("R-%d.json", i)), []byte(fmt.Sprintf(`{"schema_version":"1.6.0","id":"R-%d","modified":"2026-01-01T00:00:00Z",
"affected":[{"package":{"ecosystem":"npm","name":"pkg%d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"%s"}]}]}],"database_specific":{"severity":"CRITICAL"}}`, i, i, fixed)), 0o644)
		}
		idx, err := scan.OpenIndex(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		return idx
	}
	clean, dirty := mirror("0.0.1"), mirror("1.0.1")
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vetted.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var cur *match.Index = clean
	sc, _ := adapt.NewScanner(func() *match.Index { return cur }, adapt.DefaultScanPolicy, nil)
	for v := 0; v < versions; v++ {
		doc := sbom.Document{Format: "cyclonedx", SpecVersion: "1.5"}
		for i := 0; i < pkgs; i++ {
			n := 1000 + i // packages no advisory touches…
			if v%10 == 0 && i == 0 {
				n = v % 300 // …except one in every tenth version
			}
			doc.Packages = append(doc.Packages, sbom.Package{Name: fmt.Sprintf("pkg%d", n), Version: "1.0.0", Ecosystem: "npm", PURL: fmt.Sprintf("pkg:npm/pkg%d@1.0.0", n)})
		}
		pk, _ := json.Marshal(doc)
		lists, _ := json.Marshal([]json.RawMessage{pk})
		name := fmt.Sprintf("io.github.bench/s%04d", v)
		sum, _ := json.Marshal(registry.ScanSummary{SnapshotID: clean.SnapshotID(), Outcome: registry.Pass})
		p := registry.Publication{
			Version: registry.Version{Name: name, Version: "1.0.0", Status: registry.StatusPublished, ServerJSON: []byte(`{"name":"` + name + `"}`),
				Vetted: []byte(`{"packages":[]}`), PublishedAt: time.Unix(int64(v), 0)},
			Packages: []registry.PinnedPackage{{Index: 0, Identifier: "x", Digest: "sha256:" + strings.Repeat("a", 64), Pinned: "x@sha256:" + strings.Repeat("a", 64)}},
			Record: registry.VersionRecord{Name: name, Version: "1.0.0", Decision: registry.DecisionPublished, Checks: []registry.Check{},
				SBOMPackages: lists, ScanSnapshot: clean.SnapshotID(), ScanSummary: sum},
			Audit: registry.AuditEvent{Type: registry.AuditPublishDecision, Actor: "bench", Subject: name, Time: time.Unix(int64(v), 0)},
		}
		if _, _, err := st.CommitPublication(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	m := registry.NewMonitor(st, sc, nil, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			cur = dirty
		} else {
			cur = clean
		}
		t0 := time.Now()
		rep, err := m.RescanAll(ctx)
		if err != nil || rep.Scanned != versions || len(rep.Changes) != versions/10 {
			b.Fatalf("rescan: %+v %v", rep, err)
		}
		b.ReportMetric(float64(versions)/time.Since(t0).Seconds(), "versions/s")
	}
}
