package registry_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
	"github.com/vetted-dev/vetted/scan/vex"
)

// vexRescanner stands in for the OSV scanner at the Rescanner seam: every version has one
// high finding (CVE-2020-8203 in lodash), which fails the policy unless a VEX statement the
// desk keeps suppresses it.
type vexRescanner struct{ desk *registry.Desk }

func (r vexRescanner) Rescan(ctx context.Context, _ json.RawMessage, p registry.ScanProduct) (*registry.ScanOutcome, error) {
	set, err := r.desk.VEXSet(ctx)
	if err != nil {
		return nil, err
	}
	sum := registry.ScanSummary{SnapshotID: "snap-1", Packages: 1, Findings: map[string]int{"high": 1}, Outcome: registry.Fail, Reason: "CVE-2020-8203 (high) in lodash"}
	if st := set.Lookup(vex.Product{Name: p.ServerName, Version: p.Version}, []string{"GHSA-p6mc-m468-83gw", "CVE-2020-8203"},
		[]string{"pkg:npm/lodash@4.17.15"}, time.Now()); st != nil && st.Suppresses() {
		sum = registry.ScanSummary{SnapshotID: "snap-1", Packages: 1, Findings: map[string]int{}, Suppressed: 1, Outcome: registry.Pass, Reason: "suppressed by VEX"}
	}
	return &registry.ScanOutcome{SnapshotID: "snap-1", Report: json.RawMessage(`{"findings":[]}`), Summary: sum}, nil
}

// A VEX document takes effect on quarantine state at once: recording it releases what the
// scanner quarantined for that finding; withdrawing it quarantines the version again.
func TestDeskVEXMovesQuarantine(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vetted.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := storetest.ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusQuarantined, 1, nil, "")
	p.Record.ScanSnapshot = "snap-1"
	p.Record.ScanSummary = json.RawMessage(`{"snapshotId":"snap-1","outcome":"fail"}`)
	if _, _, err := st.CommitPublication(ctx, p); err != nil {
		t.Fatal(err)
	}
	var monitor *registry.Monitor
	desk, err := registry.NewDesk(st, registry.WithDeskRescan(func(ctx context.Context) error {
		_, err := monitor.RescanAll(ctx)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	monitor = registry.NewMonitor(st, vexRescanner{desk}, nil, nil)
	k := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	status := func() registry.Status {
		v, err := st.GetVersion(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return v.Status
	}

	doc, err := desk.UploadVEX(ctx, registry.VEXUpload{Document: storetest.VEXDocument("CVE-2020-8203", "io.github.acme/a"),
		Products: []string{"io.github.acme/a"}, Actor: "iss|alice", Reason: "lodash.merge is never called"})
	if err != nil {
		t.Fatal(err)
	}
	if s := status(); s != registry.StatusPublished {
		t.Fatalf("after the VEX statement: %s, want published", s)
	}
	if _, err := desk.WithdrawVEX(ctx, doc.ID, "iss|bob", "it is called after all"); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != registry.StatusQuarantined {
		t.Fatalf("after withdrawing it: %s, want quarantined", s)
	}
	es, _, err := desk.Audit(ctx, 0, 100, registry.AuditFilter{Subject: "io.github.acme/a@1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range es {
		types = append(types, e.Type)
	}
	want := []string{registry.AuditPublishDecision, registry.AuditRelease, registry.AuditQuarantine}
	if len(types) != len(want) || types[1] != want[1] || types[2] != want[2] {
		t.Fatalf("audit of the version: %v, want %v", types, want)
	}
}
