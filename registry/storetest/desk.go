package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// DeskStore is what the desk suite exercises: the publish suite's store plus what the desk
// needs (VEX documents, counts, scan reports).
type DeskStore interface {
	PublishStore
	registry.DeskStore
}

// RunDesk runs the security desk's conformance suite (VEX storage, review decisions, reports
// with VEX applied, the audit log) against a backend.
func RunDesk(t *testing.T, newStore func(t *testing.T) DeskStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s DeskStore)
	}{
		{"VEXStore", testVEXStore},
		{"Decisions", testDeskDecisions},
		{"Queue", testDeskQueue},
		{"VEXAppliesAtOnce", testDeskVEX},
		{"AuditLog", testDeskAudit},
		{"ScanReports", testScanReports},
		{"Exceptions", testDeskExceptions},
		{"ExceptionExpiryReevaluates", testExceptionExpiryReevaluates},
		{"ExceptionExpiryJob", testExceptionExpiryJob},
		{"RescanHonoursExceptions", testRescanHonoursExceptions},
		{"Servers", testDeskServers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// Finding is a vulnerability finding for ScanReport.
type Finding struct {
	ID       string
	Aliases  []string
	Severity string
	Package  string // npm package name
	Version  string
	Fixed    string
}

// ScanReport returns a scan report (the scan package's JSON) of name@version with findings.
func ScanReport(name, version string, fs ...Finding) json.RawMessage {
	type pkg struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Ecosystem string `json:"ecosystem"`
		PURL      string `json:"purl"`
	}
	type vuln struct {
		ID       string   `json:"id"`
		Aliases  []string `json:"aliases"`
		Records  []string `json:"records"`
		Summary  string   `json:"summary"`
		Severity string   `json:"severity"`
	}
	type finding struct {
		Package       pkg      `json:"package"`
		Vulnerability vuln     `json:"vulnerability"`
		Fixed         []string `json:"fixed"`
	}
	bySev := map[string]int{}
	out := []finding{}
	for _, f := range fs {
		bySev[f.Severity]++
		aliases := f.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		out = append(out, finding{
			Package:       pkg{Name: f.Package, Version: f.Version, Ecosystem: "npm", PURL: "pkg:npm/" + f.Package + "@" + f.Version},
			Vulnerability: vuln{ID: f.ID, Aliases: aliases, Records: []string{f.ID}, Summary: "Prototype pollution in " + f.Package, Severity: f.Severity},
			Fixed:         []string{f.Fixed},
		})
	}
	doc := map[string]any{
		"schemaVersion": "1", "generatedAt": base.Format(time.RFC3339), "snapshot": map[string]string{"id": "snap-1"},
		"sbom": map[string]any{"format": "spdx", "packages": 3}, "product": map[string]string{"Name": name, "Version": version},
		"summary":  map[string]any{"packages": 3, "assessed": 3, "notAssessed": 0, "findings": len(out), "suppressed": 0, "bySeverity": bySev},
		"findings": out, "notAssessed": []any{},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// ReviewPublication is a publication of name@version in status st at minute n whose record
// carries checks, a scan report with fs and a tool manifest.
func ReviewPublication(name, version string, st registry.Status, n int, checks []registry.Check, tools string, fs ...Finding) registry.Publication {
	p := publication(name, version, st, n)
	p.Version.ContentDigest = registry.Digest([]byte(name + "@" + version))
	p.Record.Decision = registry.Decision(st)
	if len(checks) > 0 {
		p.Record.Checks = checks
	}
	p.Record.ScanReport = ScanReport(name, version, fs...)
	if tools != "" {
		p.Record.ToolManifest = json.RawMessage(tools)
		p.Record.ToolManifestDigest = registry.Digest([]byte(tools))
	}
	return p
}

// VEXDocument returns an OpenVEX document saying vuln does not affect product.
func VEXDocument(vuln, product string) []byte {
	return []byte(fmt.Sprintf(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://vetted.example/vex/%s",
  "author": "security@acme.example",
  "timestamp": "2026-01-01T00:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": %q},
    "products": [{"@id": %q}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path"
  }]
}`, vuln, vuln, product))
}

func newDesk(t *testing.T, s registry.DeskStore, opts ...registry.DeskOption) *registry.Desk {
	t.Helper()
	d, err := registry.NewDesk(s, append([]registry.DeskOption{registry.WithDeskClock(func() time.Time { return at(100) })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testVEXStore(t *testing.T, s DeskStore) {
	ctx := context.Background()
	exp := at(500)
	doc := registry.VEXDocument{ID: "doc-1", Digest: registry.Digest([]byte("x")), Document: json.RawMessage(`{"a":1}`),
		Statements: nil, Products: []string{"io.github.acme/a"}, Expires: &exp, Actor: "iss|alice", Reason: "triaged", UploadedAt: at(1)}
	got, ev, err := s.PutVEX(ctx, doc, registry.AuditEvent{Time: at(1), Type: registry.AuditVEX, Actor: "iss|alice", Subject: "vex/doc-1"})
	if err != nil || got.ID != "doc-1" || !got.Expires.Equal(exp) || got.Withdrawn != nil || string(got.Document) != `{"a":1}` || ev.Seq != 1 {
		t.Fatalf("PutVEX = %+v, %+v, %v", got, ev, err)
	}
	if _, _, err := s.PutVEX(ctx, doc, registry.AuditEvent{Time: at(1), Type: registry.AuditVEX}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("PutVEX twice: %v, want ErrConflict", err)
	}
	doc2 := doc
	doc2.ID, doc2.Expires, doc2.UploadedAt = "doc-2", nil, at(2)
	if _, _, err := s.PutVEX(ctx, doc2, registry.AuditEvent{Time: at(2), Type: registry.AuditVEX}); err != nil {
		t.Fatal(err)
	}
	w, _, err := s.WithdrawVEX(ctx, "doc-1", registry.VEXWithdrawal{Actor: "iss|bob", Reason: "wrong product", At: at(3)},
		registry.AuditEvent{Time: at(3), Type: registry.AuditVEX})
	if err != nil || w.Withdrawn == nil || w.Withdrawn.Actor != "iss|bob" || !w.Withdrawn.At.Equal(at(3)) {
		t.Fatalf("WithdrawVEX = %+v, %v", w, err)
	}
	if _, _, err := s.WithdrawVEX(ctx, "doc-1", registry.VEXWithdrawal{At: at(4)}, registry.AuditEvent{Type: registry.AuditVEX}); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "already withdrawn") {
		t.Fatalf("withdraw twice: %v", err)
	}
	if _, _, err := s.WithdrawVEX(ctx, "none", registry.VEXWithdrawal{At: at(4)}, registry.AuditEvent{Type: registry.AuditVEX}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("withdraw missing: %v", err)
	}
	if _, err := s.GetVEX(ctx, "none"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	active, err := s.ListVEX(ctx, false)
	if err != nil || len(active) != 1 || active[0].ID != "doc-2" {
		t.Fatalf("ListVEX(active) = %+v, %v", active, err)
	}
	all, err := s.ListVEX(ctx, true)
	if err != nil || len(all) != 2 || all[0].ID != "doc-1" || all[0].Withdrawn == nil {
		t.Fatalf("ListVEX(all) = %+v, %v", all, err)
	}
	// A failed write records no audit event: the chain holds the two uploads and the withdrawal.
	if es := allAudit(t, s); len(es) != 3 {
		t.Fatalf("audit events: %d, want 3", len(es))
	}
}

func testDeskDecisions(t *testing.T, s DeskStore) {
	ctx := context.Background()
	vouchErr := errors.New("signing key unavailable")
	var failVouch bool
	d := newDesk(t, s, registry.WithDeskVouch(func(_ context.Context, k registry.Key) ([]byte, error) {
		if failVouch {
			return nil, vouchErr
		}
		return []byte(`{"payloadType":"application/vnd.in-toto+json","vouchedFor":"` + k.Name + `"}`), nil
	}))
	commit(t, s, ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPendingReview, 1, nil, ""))
	commit(t, s, ReviewPublication("io.github.acme/b", "1.0.0", registry.StatusPendingReview, 2, nil, ""))
	ka := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	kb := registry.Key{Name: "io.github.acme/b", Version: "1.0.0"}

	var fe *registry.FieldError
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "  "}); !errors.As(err, &fe) || fe.Field != "reason" {
		t.Fatalf("approve without reason: %v, want a FieldError naming reason", err)
	}
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Reason: "ok"}); !errors.As(err, &fe) || fe.Field != "actor" {
		t.Fatalf("approve without actor: %v", err)
	}
	failVouch = true
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "ok"}); !errors.Is(err, vouchErr) {
		t.Fatalf("approve without an attestation: %v, want the signing error", err)
	}
	if v, _ := s.GetVersion(ctx, ka); v.Status != registry.StatusPendingReview {
		t.Fatalf("a failed approval changed the status to %s", v.Status)
	}
	failVouch = false
	v, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "tool change reviewed"})
	if err != nil || v.Status != registry.StatusPublished || !v.IsLatest {
		t.Fatalf("approve: %+v %v", v, err)
	}
	if rec, _ := s.VersionRecord(ctx, ka); !strings.Contains(string(rec.VSA), `"vouchedFor":"io.github.acme/a"`) {
		t.Fatalf("approved without the registry's attestation: %s", rec.VSA)
	}
	if l, err := s.LatestPublished(ctx, ka.Name); err != nil || l.Version != "1.0.0" {
		t.Fatalf("served after approve: %+v %v", l, err)
	}
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "again"}); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "it is published") {
		t.Fatalf("approve twice: %v", err)
	}
	if v, err := d.Reject(ctx, registry.Action{Key: kb, Actor: "iss|bob", Reason: "exfiltrates"}); err != nil || v.Status != registry.StatusRejected {
		t.Fatalf("reject: %+v %v", v, err)
	}
	if _, err := d.Quarantine(ctx, registry.Action{Key: kb, Actor: "iss|bob", Reason: "x"}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("quarantine a rejected version: %v", err)
	}
	if v, err := d.Quarantine(ctx, registry.Action{Key: ka, Actor: "iss|bob", Reason: "incident 42"}); err != nil || v.Status != registry.StatusQuarantined || v.IsLatest || v.StatusReason != registry.ReasonReview {
		t.Fatalf("quarantine (want reason class %q): %+v %v", registry.ReasonReview, v, err)
	}
	if _, err := s.LatestPublished(ctx, ka.Name); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("served while quarantined: %v", err)
	}
	if v, err := d.Release(ctx, registry.Action{Key: ka, Actor: "iss|bob", Reason: "incident closed"}); err != nil || v.Status != registry.StatusPublished {
		t.Fatalf("release: %+v %v", v, err)
	}
	if _, err := d.Approve(ctx, registry.Action{Key: registry.Key{Name: "io.github.acme/none", Version: "1"}, Actor: "a", Reason: "r"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("approve missing: %v", err)
	}
	es := allAudit(t, s)
	if err := registry.VerifyChain(es); err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, actor, action, reason string }{
		{registry.AuditReviewDecision, "iss|alice", "approve", "tool change reviewed"},
		{registry.AuditReviewDecision, "iss|bob", "reject", "exfiltrates"},
		{registry.AuditQuarantine, "iss|bob", "quarantine", "incident 42"},
		{registry.AuditRelease, "iss|bob", "release", "incident closed"},
	}
	es = es[2:] // the two publishes
	if len(es) != len(want) {
		t.Fatalf("audit: %d events after the publishes, want %d", len(es), len(want))
	}
	for i, w := range want {
		var data map[string]string
		_ = json.Unmarshal(es[i].Data, &data)
		if es[i].Type != w.typ || es[i].Actor != w.actor || data["action"] != w.action || data["reason"] != w.reason {
			t.Errorf("audit event %d = %s %s %s, want %+v", i, es[i].Type, es[i].Actor, es[i].Data, w)
		}
	}
}

func testDeskQueue(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	why := []registry.Check{
		{Name: registry.CheckSignature, Outcome: registry.Pass, Reason: "signed"},
		{Name: registry.CheckToolsDiff, Outcome: registry.Review, Reason: "tool get_weather changed its description"},
	}
	commit(t, s, ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1, nil, ""))
	commit(t, s, ReviewPublication("io.github.acme/a", "1.1.0", registry.StatusPendingReview, 2, why, ""))
	commit(t, s, ReviewPublication("io.github.acme/c", "1.0.0", registry.StatusPendingReview, 3, nil, ""))
	items, more, err := d.Queue(ctx, nil, 1)
	if err != nil || !more || len(items) != 1 || items[0].Version.Version != "1.1.0" {
		t.Fatalf("queue page 1: %+v %v %v", items, more, err)
	}
	if len(items[0].Why) != 1 || items[0].Why[0].Name != registry.CheckToolsDiff || registry.ReviewKind(items[0].Why[0].Name) != "tool definition changed" {
		t.Fatalf("why: %+v", items[0].Why)
	}
	k := items[0].Version.Key()
	items, more, err = d.Queue(ctx, &k, 10)
	if err != nil || more || len(items) != 1 || items[0].Version.Name != "io.github.acme/c" {
		t.Fatalf("queue page 2: %+v %v %v", items, more, err)
	}
	cur, _, _ := d.Record(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.1.0"})
	prev, prec, err := d.Previous(ctx, cur)
	if err != nil || prev == nil || prev.Version != "1.0.0" || prec == nil {
		t.Fatalf("previous: %+v %v", prev, err)
	}
}

func testDeskVEX(t *testing.T, s DeskStore) {
	ctx := context.Background()
	rescans := 0
	d := newDesk(t, s, registry.WithDeskRescan(func(context.Context) error { rescans++; return nil }))
	lodash := Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}
	commit(t, s, ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1, nil, "", lodash))
	commit(t, s, ReviewPublication("io.github.acme/b", "1.0.0", registry.StatusPublished, 2, nil, "", lodash))
	commit(t, s, ReviewPublication("io.github.acme/p", "1.0.0", registry.StatusPendingReview, 3, nil, "", lodash))

	affected, err := d.Findings(ctx, registry.FindingQuery{Vulnerability: "cve-2020-8203", Statuses: []registry.Status{registry.StatusPublished}})
	if err != nil || len(affected) != 2 || affected[0].Server != "io.github.acme/a" {
		t.Fatalf("affected by the CVE alias: %+v %v", affected, err)
	}

	cases := []struct {
		name  string
		up    registry.VEXUpload
		field string
		why   string
	}{
		{"no reason", registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/a"), Products: []string{"io.github.acme/a"}, Actor: "iss|alice"}, "reason", "required"},
		{"no scope", registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/a"), Actor: "iss|alice", Reason: "r"}, "products", "at least one product"},
		{"unknown product", registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/zzz"), Products: []string{"io.github.acme/zzz"}, Actor: "iss|alice", Reason: "r"}, "products[0]", "not a server in this registry"},
		{"statement outside scope", registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/b"), Products: []string{"io.github.acme/a"}, Actor: "iss|alice", Reason: "r"}, "document", "outside the scope"},
		{"not OpenVEX", registry.VEXUpload{Document: []byte(`{"@context":"https://example.com"}`), Products: []string{"io.github.acme/a"}, Actor: "iss|alice", Reason: "r"}, "document", "not OpenVEX"},
		{"expired", registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/a"), Products: []string{"io.github.acme/a"}, Expires: ptr(at(50)), Actor: "iss|alice", Reason: "r"}, "expires", "not in the future"},
	}
	for _, c := range cases {
		_, err := d.UploadVEX(ctx, c.up)
		var fe *registry.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Reason, c.why) {
			t.Errorf("%s: %v, want a FieldError on %s saying %q", c.name, err, c.field, c.why)
		}
	}
	if rescans != 0 {
		t.Fatalf("rejected uploads re-scanned %d times", rescans)
	}

	doc, err := d.UploadVEX(ctx, registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/a@1.0.0"),
		Products: []string{"io.github.acme/a"}, Expires: ptr(at(200)), Actor: "iss|alice", Reason: "lodash merge is never called"})
	if err != nil || doc.ID == "" || len(doc.Statements) != 1 || rescans != 1 {
		t.Fatalf("upload: %+v %v (rescans %d)", doc, err, rescans)
	}
	_, rs, err := d.Reports(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.0.0"})
	if err != nil || len(rs) != 1 || rs[0].Findings[0].Suppressed == nil || rs[0].Summary.Suppressed != 1 || rs[0].Summary.BySeverity["high"] != 0 {
		t.Fatalf("report after VEX: %+v %v", rs, err)
	}
	_, rs, _ = d.Reports(ctx, registry.Key{Name: "io.github.acme/b", Version: "1.0.0"})
	if rs[0].Findings[0].Suppressed != nil {
		t.Fatal("a VEX statement scoped to io.github.acme/a suppressed a finding of io.github.acme/b")
	}
	affected, _ = d.Findings(ctx, registry.FindingQuery{Vulnerability: "GHSA-p6mc-m468-83gw", Statuses: []registry.Status{registry.StatusPublished}})
	if len(affected) != 1 || affected[0].Server != "io.github.acme/b" {
		t.Fatalf("affected after VEX: %+v", affected)
	}
	if _, err := d.WithdrawVEX(ctx, doc.ID, "iss|bob", ""); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("withdraw without reason: %v", err)
	}
	if _, err := d.WithdrawVEX(ctx, doc.ID, "iss|bob", "the call is reachable after all"); err != nil || rescans != 2 {
		t.Fatalf("withdraw: %v (rescans %d)", err, rescans)
	}
	_, rs, _ = d.Reports(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.0.0"})
	if rs[0].Findings[0].Suppressed != nil || rs[0].Summary.BySeverity["high"] != 1 {
		t.Fatalf("report after withdrawal still suppressed: %+v", rs[0].Findings[0])
	}
	// Expiry: a document expiring before now no longer applies.
	_, err = d.UploadVEX(ctx, registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/b"),
		Products: []string{"io.github.acme/b"}, Expires: ptr(at(101)), Actor: "iss|alice", Reason: "temporary"})
	if err != nil {
		t.Fatal(err)
	}
	later := newDesk(t, s, registry.WithDeskClock(func() time.Time { return at(102) }))
	_, rs, _ = later.Reports(ctx, registry.Key{Name: "io.github.acme/b", Version: "1.0.0"})
	if rs[0].Findings[0].Suppressed != nil {
		t.Fatal("an expired VEX document still suppresses")
	}
	es := allAudit(t, s)
	if err := registry.VerifyChain(es); err != nil {
		t.Fatal(err)
	}
	if last := es[len(es)-1]; last.Type != registry.AuditVEX || last.Actor != "iss|alice" || !strings.Contains(string(last.Data), "temporary") {
		t.Fatalf("last audit event: %+v", last)
	}
}

func testDeskAudit(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	for i := 0; i < 5; i++ {
		commit(t, s, ReviewPublication(fmt.Sprintf("io.github.acme/s%d", i), "1.0.0", registry.StatusPendingReview, i, nil, ""))
	}
	if _, err := d.Approve(ctx, registry.Action{Key: registry.Key{Name: "io.github.acme/s3", Version: "1.0.0"}, Actor: "iss|alice", Reason: "ok"}); err != nil {
		t.Fatal(err)
	}
	es, next, err := d.Audit(ctx, 0, 2, registry.AuditFilter{Type: registry.AuditPublishDecision})
	if err != nil || len(es) != 2 || next != 2 || es[0].Seq != 1 {
		t.Fatalf("page 1: %d events, next %d, %v", len(es), next, err)
	}
	es, next, err = d.Audit(ctx, next, 10, registry.AuditFilter{Type: registry.AuditPublishDecision})
	if err != nil || len(es) != 3 || next != 0 {
		t.Fatalf("page 2: %d events, next %d, %v", len(es), next, err)
	}
	es, _, _ = d.Audit(ctx, 0, 10, registry.AuditFilter{Actor: "alice", Subject: "s3"})
	if len(es) != 1 || es[0].Type != registry.AuditReviewDecision {
		t.Fatalf("filtered by actor and subject: %+v", es)
	}
	var fe *registry.FieldError
	if _, _, err := d.Audit(ctx, 0, 0, registry.AuditFilter{}); !errors.As(err, &fe) || fe.Field != "limit" {
		t.Fatalf("limit 0: %v", err)
	}
	st, err := d.VerifyAudit(ctx)
	if err != nil || !st.OK || st.Events != 6 || st.Head == "" || st.Break != nil {
		t.Fatalf("verify: %+v %v", st, err)
	}
	n := 0
	if err := d.EachAudit(ctx, registry.AuditFilter{}, func(registry.AuditEvent) error { n++; return nil }); err != nil || n != 6 {
		t.Fatalf("each: %d %v", n, err)
	}
	recent, err := d.RecentAudit(ctx, 3, func(e registry.AuditEvent) bool { return e.Type == registry.AuditPublishDecision })
	if err != nil || len(recent) != 3 || recent[0].Seq != 5 || recent[1].Seq != 4 || recent[2].Seq != 3 {
		t.Fatalf("recent publish decisions: %+v %v", recent, err)
	}
	if recent, err := d.RecentAudit(ctx, 100, nil); err != nil || len(recent) != 6 || recent[0].Seq != 6 || recent[5].Seq != 1 {
		t.Fatalf("recent, all: %d %v", len(recent), err)
	}
}

func ptr[T any](v T) *T { return &v }

func testScanReports(t *testing.T, s DeskStore) {
	ctx := context.Background()
	lodash := Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}
	commit(t, s, ReviewPublication("io.github.acme/b", "1.0.0", registry.StatusPublished, 1, nil, "", lodash))
	commit(t, s, ReviewPublication("io.github.acme/a", "2.0.0", registry.StatusQuarantined, 2, nil, "", lodash))
	commit(t, s, ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 3, nil, "", lodash))
	commit(t, s, ReviewPublication("io.github.acme/c", "1.0.0", registry.StatusPendingReview, 4, nil, "", lodash))
	srs, err := s.ScanReports(ctx, registry.StatusPublished, registry.StatusQuarantined)
	if err != nil || len(srs) != 3 || srs[0].Key.Version != "1.0.0" || srs[1].Status != registry.StatusQuarantined || srs[2].Key.Name != "io.github.acme/b" || len(srs[0].Report) == 0 {
		t.Fatalf("ScanReports = %+v, %v", srs, err)
	}
	q := registry.FindingQuery{Vulnerability: "CVE-2020-8203"}
	fast, err := newDesk(t, s).Findings(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[registry.Status]int{registry.StatusPublished: 2, registry.StatusQuarantined: 1, registry.StatusPendingReview: 1}
	for _, d := range []*registry.Desk{newDesk(t, s)} {
		got, err := d.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for st, n := range want {
			if got[st] != n {
				t.Errorf("Counts()[%s] = %d, want %d (%v)", st, got[st], n, got)
			}
		}
		if got[registry.StatusRejected] != 0 {
			t.Errorf("Counts()[rejected] = %d", got[registry.StatusRejected])
		}
	}
	if len(fast) != 3 {
		t.Fatalf("findings: %d, want 3: %+v", len(fast), fast)
	}
}
