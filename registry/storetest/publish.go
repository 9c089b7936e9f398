package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// PublishStore is what the publish suite exercises: a Store with the pipeline's, the
// evidence and the lifecycle capabilities.
type PublishStore interface {
	registry.Store
	registry.PublishStore
	registry.EvidenceStore
	registry.LifecycleStore
}

// Backend gives the publish suite a fresh store and a way to tamper with its rows.
type Backend struct {
	// New returns a fresh, empty store (closed at the test's cleanup).
	New func(t *testing.T) PublishStore
	// Exec runs SQL directly against the store's database, bypassing the store (to tamper
	// with the audit chain). Placeholders are the backend's own ("?" or "$1").
	Exec func(t *testing.T, s PublishStore, query string, args ...any)
	// Second, when set, opens a second store on the same database as s (another process's
	// pool), for cross-process races.
	Second func(t *testing.T, s PublishStore) PublishStore
	// Placeholder returns the n-th (1-based) placeholder of the backend's SQL.
	Placeholder func(n int) string
}

// RunPublish runs the publish conformance suite.
func RunPublish(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"CommitAndRead", testCommitAndRead},
		{"CommitIdempotentAndConflict", testCommitIdempotentAndConflict},
		{"CommitAllOrNothing", testCommitAllOrNothing},
		{"ConcurrentPublishes", testConcurrentPublishes},
		{"AuditChainTampering", testAuditTampering},
		{"ConcurrentAudit", testConcurrentAudit},
		{"Transition", testTransition},
		{"ClaimJob", testClaimJob},
		{"MirrorState", testMirrorState},
		{"Namespaces", testNamespaces},
		{"TamperedVersions", testTamperedVersions},
		{"TruncatedChain", testTruncatedChain},
		{"NamespaceRace", testNamespaceRace},
		{"IntegrityMigration", testIntegrityMigration},
		{"SearchMigration", testSearchMigration},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

var digestA = "sha256:" + strings.Repeat("a", 64)

func publication(name, version string, st registry.Status, n int) registry.Publication {
	v := ver(name, version, st, n)
	v.Vetted = []byte(`{"packages":[]}`)
	bundle := registry.NewBlob("application/vnd.dev.sigstore.bundle.v0.3+json", []byte("bundle of "+name+"@"+version))
	shared := registry.NewBlob("application/json", []byte(`{"tools":[]}`))
	return registry.Publication{
		Version:  v,
		Packages: []registry.PinnedPackage{{Index: 0, Identifier: "ghcr.io/x/y:1", Digest: digestA, Pinned: "ghcr.io/x/y@" + digestA}},
		Blobs:    []registry.Blob{bundle, shared},
		Record: registry.VersionRecord{
			Name: name, Version: version, Decision: registry.DecisionPublished, Actor: "iss|ci", DecidedAt: at(n),
			Checks:       []registry.Check{{Name: registry.CheckSignature, Package: "packages[0] ghcr.io/x/y:1", Outcome: registry.Pass, Reason: "signed"}},
			Verification: json.RawMessage(`[{"digest":"` + digestA + `"}]`), Provenance: json.RawMessage(`[{"commit":"abc"}]`),
			SBOMPackages: json.RawMessage(`[[{"name":"lodash","version":"4.17.0"}]]`), ScanSnapshot: "snap-1",
			ScanReport: json.RawMessage(`{"findings":[]}`), ScanSummary: json.RawMessage(`{"outcome":"pass"}`),
			ToolManifestDigest: registry.Digest([]byte(`{"tools":[]}`)), ToolManifest: json.RawMessage(`{"tools":[]}`),
			ToolReport: json.RawMessage(`{"manifestDigest":"x"}`), VSA: json.RawMessage(`{"payloadType":"application/vnd.in-toto+json"}`),
			Evidence: []registry.EvidenceRef{{Package: 0, Role: "signature", Digest: bundle.Digest}, {Package: -1, Role: "tool-manifest", Digest: shared.Digest}},
		},
		Audit: registry.AuditEvent{Time: at(n), Type: registry.AuditPublishDecision, Actor: "iss|ci", Subject: name + "@" + version,
			Data: json.RawMessage(`{"decision":"` + string(st) + `"}`)},
	}
}

func commit(t *testing.T, s PublishStore, p registry.Publication) registry.Version {
	t.Helper()
	v, created, err := s.CommitPublication(context.Background(), p)
	if err != nil || !created {
		t.Fatalf("CommitPublication(%s@%s) = created %v, %v", p.Version.Name, p.Version.Version, created, err)
	}
	return v
}

func allAudit(t *testing.T, s PublishStore) []registry.AuditEvent {
	t.Helper()
	var out []registry.AuditEvent
	after := int64(0)
	for {
		es, err := s.AuditEvents(context.Background(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		out = append(out, es...)
		after = es[len(es)-1].Seq
	}
}

func testCommitAndRead(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	p := publication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 1)
	v := commit(t, s, p)
	if !v.IsLatest || v.Status != registry.StatusPublished || string(v.Vetted) != `{"packages":[]}` {
		t.Fatalf("stored version: %+v", v)
	}
	rec, err := s.VersionRecord(ctx, v.Key())
	if err != nil {
		t.Fatal(err)
	}
	want := p.Record
	want.DecidedAt = registry.StoreTime(want.DecidedAt)
	gotJ, _ := json.Marshal(rec)
	wantJ, _ := json.Marshal(want)
	if string(gotJ) != string(wantJ) {
		t.Fatalf("record round trip:\n got %s\nwant %s", gotJ, wantJ)
	}
	pk, err := s.PinnedPackages(ctx, v.Key())
	if err != nil || len(pk) != 1 || pk[0] != p.Packages[0] {
		t.Fatalf("packages: %+v %v", pk, err)
	}
	for _, bl := range p.Blobs {
		got, err := s.Blob(ctx, bl.Digest)
		if err != nil || string(got.Data) != string(bl.Data) || got.MediaType != bl.MediaType {
			t.Fatalf("blob %s: %+v %v", bl.Digest, got, err)
		}
	}
	if _, err := s.Blob(ctx, "sha256:"+strings.Repeat("0", 64)); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing blob: %v", err)
	}
	if _, err := s.VersionRecord(ctx, registry.Key{Name: "io.github.acme/weather", Version: "9"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
	// A second version sharing a blob stores it once and both read it.
	p2 := publication("io.github.acme/weather", "1.1.0", registry.StatusPendingReview, 2)
	v2 := commit(t, s, p2)
	if v2.IsLatest {
		t.Fatal("a pending_review version must not become latest")
	}
	latest, err := s.LatestPublished(ctx, "io.github.acme/weather")
	if err != nil || latest.Version != "1.0.0" {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	es := allAudit(t, s)
	if len(es) != 2 || es[0].Subject != "io.github.acme/weather@1.0.0" || es[1].Seq != 2 {
		t.Fatalf("audit: %+v", es)
	}
	if err := registry.VerifyChain(es); err != nil {
		t.Fatalf("chain: %v", err)
	}
}

func testCommitIdempotentAndConflict(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	p := publication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 1)
	commit(t, s, p)
	v, created, err := s.CommitPublication(ctx, p)
	if err != nil || created || v.Version != "1.0.0" {
		t.Fatalf("replay: created=%v %v", created, err)
	}
	q := p
	q.Version.ServerJSON = []byte(`{"name":"io.github.acme/weather","version":"1.0.0","other":true}`)
	q.Version.ContentDigest = ""
	if _, _, err := s.CommitPublication(ctx, q); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("different content: %v", err)
	}
	if es := allAudit(t, s); len(es) != 1 {
		t.Fatalf("replay or conflict wrote audit events: %d", len(es))
	}
}

func testCommitAllOrNothing(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	seq0, _ := s.ChangeSeq(ctx)
	// A blob whose digest does not match its bytes is refused before anything is written.
	p := publication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 1)
	p.Blobs[0].Data = []byte("tampered")
	if _, _, err := s.CommitPublication(ctx, p); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad blob: %v", err)
	}
	// A failure in the middle of the transaction (an invalid audit event: the last write)
	// leaves nothing behind.
	p = publication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 1)
	p.Audit.Type = ""
	if _, _, err := s.CommitPublication(ctx, p); err == nil {
		t.Fatal("invalid audit event accepted")
	}
	if _, err := s.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("version left behind: %v", err)
	}
	if _, err := s.Blob(ctx, p.Blobs[0].Digest); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("blob left behind: %v", err)
	}
	if _, err := s.VersionRecord(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("record left behind: %v", err)
	}
	if seq, _ := s.ChangeSeq(ctx); seq != seq0 {
		t.Fatalf("change seq moved: %d → %d", seq0, seq)
	}
	// And the store still works.
	commit(t, s, publication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 1))
}

func testConcurrentPublishes(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	stores := []PublishStore{s}
	if b.Second != nil {
		stores = append(stores, b.Second(t, s))
	}
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, conflicts := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := publication("io.github.acme/race", "1.0.0", registry.StatusPublished, 1)
			if i%4 == 3 { // some publishers send different content
				p.Version.ServerJSON = []byte(fmt.Sprintf(`{"name":"io.github.acme/race","version":"1.0.0","n":%d}`, i))
			}
			_, c, err := stores[i%len(stores)].CommitPublication(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && c:
				created++
			case errors.Is(err, registry.ErrConflict):
				conflicts++
			case err != nil:
				t.Errorf("publisher %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d publishes created the version, want exactly 1 (conflicts %d)", created, conflicts)
	}
	vs, err := s.ListServerVersions(ctx, "io.github.acme/race")
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions: %d %v", len(vs), err)
	}
	es := allAudit(t, s)
	if len(es) != 1 {
		t.Fatalf("audit events: %d, want 1", len(es))
	}
}

func testAuditTampering(t *testing.T, b Backend) {
	ph := b.Placeholder
	cases := []struct {
		name   string
		tamper func(t *testing.T, s PublishStore)
		seq    int64
		reason string
	}{
		{"changed subject", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE audit_events SET subject = 'io.github.evil/x@1' WHERE seq = `+ph(1), 2)
		}, 2, registry.ChainChanged},
		{"changed data", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE audit_events SET data = `+ph(1)+` WHERE seq = `+ph(2), []byte(`{"decision":"published"}`), 3)
		}, 3, registry.ChainChanged},
		{"removed", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `DELETE FROM audit_events WHERE seq = `+ph(1), 2)
		}, 2, registry.ChainRemoved},
		{"reordered", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE audit_events SET seq = -seq WHERE seq IN (2, 3)`)
			b.Exec(t, s, `UPDATE audit_events SET seq = 5 + seq WHERE seq IN (-2, -3)`) // 2↔3
		}, 2, registry.ChainChanged},
		{"removed and renumbered", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `DELETE FROM audit_events WHERE seq = 2`)
			b.Exec(t, s, `UPDATE audit_events SET seq = seq - 1 WHERE seq > 2`)
		}, 2, registry.ChainChanged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := b.New(t)
			commit(t, s, publication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
			commit(t, s, publication("io.github.acme/a", "1.1.0", registry.StatusPublished, 2))
			if _, err := s.AppendAudit(context.Background(), registry.AuditEvent{Time: at(3), Type: registry.AuditPublishDecision,
				Actor: "iss|ci", Subject: "io.github.acme/a@2.0.0", Data: json.RawMessage(`{"decision":"rejected"}`)}); err != nil {
				t.Fatal(err)
			}
			commit(t, s, publication("io.github.acme/a", "1.2.0", registry.StatusPublished, 4))
			if err := registry.VerifyChain(allAudit(t, s)); err != nil {
				t.Fatalf("intact chain: %v", err)
			}
			tc.tamper(t, s)
			err := registry.VerifyChain(allAudit(t, s))
			var ce *registry.ChainError
			if !errors.As(err, &ce) || ce.Seq != tc.seq || ce.Reason != tc.reason {
				t.Fatalf("got %v; want a break at %d (%s)", err, tc.seq, tc.reason)
			}
		})
	}
}

func testConcurrentAudit(t *testing.T, b Backend) {
	s := b.New(t)
	stores := []PublishStore{s}
	if b.Second != nil {
		stores = append(stores, b.Second(t, s))
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := stores[i%len(stores)].AppendAudit(context.Background(), registry.AuditEvent{Time: at(i), Type: registry.AuditConfigChange,
				Actor: "admin", Subject: fmt.Sprint(i), Data: json.RawMessage(`{}`)}); err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	es := allAudit(t, s)
	if len(es) != 20 {
		t.Fatalf("%d events, want 20", len(es))
	}
	if err := registry.VerifyChain(es); err != nil {
		t.Fatalf("concurrent appends broke the chain: %v", err)
	}
}

func testTransition(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	commit(t, s, publication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
	commit(t, s, publication("io.github.acme/a", "2.0.0", registry.StatusPublished, 2))
	k := registry.Key{Name: "io.github.acme/a", Version: "2.0.0"}
	seq0, _ := s.ChangeSeq(ctx)
	v, err := s.Transition(ctx, registry.Transition{Key: k, From: []registry.Status{registry.StatusPublished}, To: registry.StatusQuarantined, At: at(5),
		Reason: registry.ReasonVulnerability,
		Scan:   &registry.ScanUpdate{Snapshot: "snap-2", Report: json.RawMessage(`{"findings":[1]}`), Summary: json.RawMessage(`{"outcome":"fail"}`)},
		Audit:  registry.AuditEvent{Time: at(5), Type: registry.AuditQuarantine, Actor: "vetted", Subject: "io.github.acme/a@2.0.0", Data: json.RawMessage(`{"snapshot":"snap-2"}`)}})
	if err != nil || v.Status != registry.StatusQuarantined || v.IsLatest || !v.UpdatedAt.Equal(at(5)) || v.StatusReason != registry.ReasonVulnerability {
		t.Fatalf("quarantine: %+v %v", v, err)
	}
	// The status change is visible to an incremental reader: updated_since of the change
	// time finds the quarantined version (with its reason) when asked for it, and only then.
	page, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Limit: 10, UpdatedSince: at(5), Statuses: registry.ListedStatuses})
	if err != nil || len(page) != 1 || page[0].Version != "2.0.0" || page[0].StatusReason != registry.ReasonVulnerability {
		t.Fatalf("updated_since after quarantine, listed statuses: %+v %v", page, err)
	}
	if page, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Limit: 10, UpdatedSince: at(5)}); err != nil || len(page) != 0 {
		t.Fatalf("updated_since after quarantine, published only: %+v %v", page, err)
	}
	if _, err := s.Transition(ctx, registry.Transition{Key: k, To: registry.StatusQuarantined, Reason: "whim",
		Audit: registry.AuditEvent{Type: registry.AuditQuarantine, Data: json.RawMessage(`{}`)}}); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), `unknown status reason "whim"`) {
		t.Fatalf("unknown reason: %v", err)
	}
	if seq, _ := s.ChangeSeq(ctx); seq <= seq0 {
		t.Fatal("change seq did not move")
	}
	if l, _ := s.LatestPublished(ctx, "io.github.acme/a"); l.Version != "1.0.0" {
		t.Fatalf("latest after quarantine: %s", l.Version)
	}
	rec, _ := s.VersionRecord(ctx, k)
	if rec.ScanSnapshot != "snap-2" || string(rec.ScanSummary) != `{"outcome":"fail"}` || len(rec.VSA) == 0 {
		t.Fatalf("record after rescan: %+v", rec)
	}
	items, err := s.RescanItems(ctx, registry.StatusPublished, registry.StatusQuarantined)
	if err != nil || len(items) != 2 || items[1].Status != registry.StatusQuarantined || items[1].Snapshot != "snap-2" ||
		string(items[0].SBOMPackages) == "" || len(items[0].Packages) != 1 {
		t.Fatalf("rescan items: %+v %v", items, err)
	}
	// Wrong source status: conflict, nothing written.
	_, err = s.Transition(ctx, registry.Transition{Key: k, From: []registry.Status{registry.StatusPublished}, To: registry.StatusQuarantined,
		Audit: registry.AuditEvent{Type: registry.AuditQuarantine, Data: json.RawMessage(`{}`)}})
	if !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "quarantined") {
		t.Fatalf("wrong from: %v", err)
	}
	v, err = s.Transition(ctx, registry.Transition{Key: k, From: []registry.Status{registry.StatusQuarantined}, To: registry.StatusPublished, At: at(6),
		Vetted: json.RawMessage(`{"released":true}`),
		Audit:  registry.AuditEvent{Time: at(6), Type: registry.AuditRelease, Actor: "vetted", Subject: "io.github.acme/a@2.0.0", Data: json.RawMessage(`{}`)}})
	if err != nil || !v.IsLatest || string(v.Vetted) != `{"released":true}` || v.StatusReason != registry.ReasonNone {
		t.Fatalf("release: %+v %v", v, err)
	}
	if _, err := s.Transition(ctx, registry.Transition{Key: registry.Key{Name: "io.github.acme/none", Version: "1"}, To: registry.StatusPublished,
		Audit: registry.AuditEvent{Type: "x"}}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	es := allAudit(t, s)
	if len(es) != 4 || es[2].Type != registry.AuditQuarantine || es[3].Type != registry.AuditRelease {
		t.Fatalf("audit: %+v", es)
	}
	if err := registry.VerifyChain(es); err != nil {
		t.Fatal(err)
	}
}

func testClaimJob(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	stores := []PublishStore{s}
	if b.Second != nil {
		stores = append(stores, b.Second(t, s))
	}
	now := at(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ok, err := stores[i%len(stores)].ClaimJob(ctx, "osv-sync", fmt.Sprintf("replica-%d", i), now, time.Minute, time.Time{})
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d replicas claimed the job, want 1", winners)
	}
	if ok, _ := s.ClaimJob(ctx, "osv-sync", "late", now.Add(30*time.Second), time.Minute, time.Time{}); ok {
		t.Fatal("claimed while held")
	}
	if ok, _ := s.ClaimJob(ctx, "osv-sync", "late", now.Add(2*time.Minute), time.Minute, time.Time{}); !ok {
		t.Fatal("expired claim not taken over")
	}
	if err := s.CompleteJob(ctx, "osv-sync", "late", now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Done at +3m: not due again before +3m (notBefore = now - interval).
	if ok, _ := s.ClaimJob(ctx, "osv-sync", "other", now.Add(4*time.Minute), time.Minute, now.Add(2*time.Minute)); ok {
		t.Fatal("claimed a job that is not due")
	}
	if ok, _ := s.ClaimJob(ctx, "osv-sync", "other", now.Add(4*time.Minute), time.Minute, now.Add(4*time.Minute)); !ok {
		t.Fatal("due job not claimed")
	}
}

func testNamespaces(t *testing.T, b Backend) {
	s := b.New(t)
	if ns, err := s.Namespaces(context.Background()); err != nil || len(ns) != 0 {
		t.Fatalf("empty: %v %v", ns, err)
	}
	commit(t, s, publication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
	commit(t, s, publication("io.github.acme/b", "1.0.0", registry.StatusPendingReview, 1))
	commit(t, s, publication("com.example/x", "1.0.0", registry.StatusPublished, 1))
	ns, err := s.Namespaces(context.Background())
	if err != nil || strings.Join(ns, ",") != "com.example,io.github.acme" {
		t.Fatalf("namespaces: %v %v", ns, err)
	}
}
