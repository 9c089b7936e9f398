package registry_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// failingRescanner finds one high vulnerability in everything.
type failingRescanner struct{}

func (failingRescanner) Rescan(context.Context, json.RawMessage, registry.ScanProduct) (*registry.ScanOutcome, error) {
	sum := registry.ScanSummary{SnapshotID: "snap-2", Packages: 1, Findings: map[string]int{"high": 1}, Outcome: registry.Fail, Reason: "CVE-2020-8203 (high) in lodash"}
	return &registry.ScanOutcome{SnapshotID: "snap-2", Report: json.RawMessage(`{"findings":[]}`), Summary: sum}, nil
}

// The re-scan job, registered with Jobs and run on demand: without an OSV snapshot it
// refuses to re-scan (and says why); RescanOnly quarantines what now fails and POSTs each
// change to the webhook.
func TestRescanJob(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vetted.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := storetest.ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1, nil, "")
	p.Record.ScanSnapshot = "snap-1"
	p.Record.ScanSummary = json.RawMessage(`{"snapshotId":"snap-1","outcome":"pass"}`)
	if _, _, err := st.CommitPublication(ctx, p); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hooks []registry.Change
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ch registry.Change
		if err := json.Unmarshal(body, &ch); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %q (%v)", body, err)
		}
		mu.Lock()
		hooks = append(hooks, ch)
		mu.Unlock()
	}))
	defer hook.Close()
	job := &registry.RescanJob{Monitor: registry.NewMonitor(st, failingRescanner{}, nil, nil),
		Mirror: registry.NewOSVMirror(filepath.Join(t.TempDir(), "osv"), nil), Webhook: hook.URL, Client: hook.Client()}
	jobs := registry.NewJobs(st)
	if err := jobs.Register(job.Job(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.RunNow(ctx, registry.RescanJobName); err == nil || !strings.Contains(err.Error(), "no OSV snapshot") {
		t.Fatalf("run without a snapshot: %v", err)
	}
	rep, err := job.RescanOnly(ctx)
	if err != nil || len(rep.Changes) != 1 || rep.Changes[0].Event != "quarantined" {
		t.Fatalf("RescanOnly = %+v, %v", rep, err)
	}
	v, _ := st.GetVersion(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.0.0"})
	mu.Lock()
	defer mu.Unlock()
	if v.Status != registry.StatusQuarantined || len(hooks) != 1 || hooks[0].Event != "quarantined" || hooks[0].Server != "io.github.acme/a" {
		t.Fatalf("status %s, webhook calls %+v", v.Status, hooks)
	}
}
