package registry_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// Rejections counts rejected publishes (audit events only, no version stored) and versions a
// reviewer rejected, and keeps counting as the chain grows.
func TestDeskRejectionsFromTheAuditChain(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vetted.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk, err := registry.NewDesk(st)
	if err != nil {
		t.Fatal(err)
	}
	count := func(want int) {
		t.Helper()
		n, err := desk.Rejections(ctx)
		if err != nil || n != want {
			t.Fatalf("Rejections = %d, %v; want %d", n, err, want)
		}
	}
	count(0)
	for _, d := range []string{`{"decision":"rejected"}`, `{"decision":"published"}`, `{"decision":"rejected"}`} {
		if _, err := st.AppendAudit(ctx, registry.AuditEvent{Time: time.Now(), Type: registry.AuditPublishDecision, Actor: "p", Subject: "io.github.acme/x@1.0.0", Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	count(2)
	if _, _, err := st.CommitPublication(ctx, storetest.ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPendingReview, 1, nil, "")); err != nil {
		t.Fatal(err)
	}
	count(2) // a pending version is no rejection
	if _, err := desk.Reject(ctx, registry.Action{Key: registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}, Actor: "alice", Reason: "not ours"}); err != nil {
		t.Fatal(err)
	}
	count(3)
}
