package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/report"
)

// ToolReport is a stored tool report with one lint finding per (tool, rule, pointer).
func ToolReport(fs ...registry.ToolFinding) json.RawMessage {
	b, err := json.Marshal(registry.ToolReport{ManifestDigest: "sha256:" + strings.Repeat("0", 64), Tools: []registry.ToolDigest{}, Findings: fs})
	if err != nil {
		panic(err)
	}
	return b
}

// testDeskExceptions covers exceptions end to end on a backend: validation against the
// version's recorded findings, the approval that records one in the same transaction and
// audit event, the expiry sweep that re-queues a published version, the expiry of a version
// in another status, revocation, and a chain that still replays to the stored statuses.
func testDeskExceptions(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	lint := registry.ToolFinding{Tool: "forecast", Rule: "TM601", Severity: "high", Pointer: "/description", Message: "directive to the model"}
	lodash := Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}
	for i, name := range []string{"io.github.acme/a", "io.github.acme/b", "io.github.acme/c"} {
		p := ReviewPublication(name, "1.0.0", registry.StatusPendingReview, i+1, nil, "", lodash)
		p.Record.ToolReport = ToolReport(lint)
		commit(t, s, p)
	}
	ka := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	kb := registry.Key{Name: "io.github.acme/b", Version: "1.0.0"}
	kc := registry.Key{Name: "io.github.acme/c", Version: "1.0.0"}
	approve := func(k registry.Key, r *registry.ExceptionRequest) (registry.Version, error) {
		return d.Approve(ctx, registry.Action{Key: k, Actor: "iss|alice", Reason: "accepted until the vendor fixes it", Exception: r})
	}

	bad := []struct {
		name  string
		req   registry.ExceptionRequest
		field string
		why   string
	}{
		{"nothing named", registry.ExceptionRequest{}, "exception.findings", "at least one finding"},
		{"unknown lint finding", registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptLint, Tool: "forecast", Rule: "TM601", Pointer: "/title"}}},
			"exception.findings[0]", `no lint finding TM601 in tool "forecast" at "/title"`},
		{"unknown vulnerability", registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptVulnerability, Vulnerability: "CVE-2099-1"}}},
			"exception.findings[0]", `no finding of vulnerability "CVE-2099-1"`},
		{"all with others", registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptVulnerability, Vulnerability: "CVE-2020-8203"}, {Kind: registry.ExceptAll}}},
			"exception.findings[1]", "name it alone"},
		{"unknown kind", registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: "everything"}}}, "exception.findings[0].kind", "not one of"},
		{"expired", registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptAll}}, Expires: ptr(at(50))}, "exception.expires", "not in the future"},
	}
	for _, c := range bad {
		_, err := approve(ka, &c.req)
		var fe *registry.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Reason, c.why) {
			t.Errorf("%s: %v, want a FieldError on %s saying %q", c.name, err, c.field, c.why)
		}
	}
	if _, err := d.Reject(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "r", Exception: &registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptAll}}}}); err == nil || !strings.Contains(err.Error(), "only an approval or a release") {
		t.Fatalf("reject with an exception: %v", err)
	}
	if v, _ := s.GetVersion(ctx, ka); v.Status != registry.StatusPendingReview {
		t.Fatalf("a refused approval moved the version to %s", v.Status)
	}
	if es, err := d.Exceptions(ctx, ka); err != nil || len(es) != 0 {
		t.Fatalf("refused approvals recorded exceptions: %+v %v", es, err)
	}

	// a: the lint finding and the vulnerability (named by its alias, in another case) until minute 200.
	v, err := approve(ka, &registry.ExceptionRequest{Expires: ptr(at(200)), Findings: []registry.ExceptedFinding{
		{Kind: registry.ExceptLint, Tool: "forecast", Rule: "TM601", Pointer: "/description"},
		{Kind: registry.ExceptVulnerability, Vulnerability: "cve-2020-8203"}}})
	if err != nil || v.Status != registry.StatusPublished || !v.IsLatest {
		t.Fatalf("approve with an exception: %+v %v", v, err)
	}
	es, err := d.Exceptions(ctx, ka)
	if err != nil || len(es) != 1 {
		t.Fatalf("exceptions of a: %+v %v", es, err)
	}
	ea := es[0]
	if ea.Actor != "iss|alice" || ea.Reason != "accepted until the vendor fixes it" || ea.Expires == nil || !ea.Expires.Equal(at(200)) ||
		ea.Ended != nil || len(ea.Findings) != 2 || ea.Findings[1].Vulnerability != "GHSA-p6mc-m468-83gw" || !ea.CreatedAt.Equal(at(100)) || !ea.Active(at(199)) || ea.Active(at(200)) {
		t.Fatalf("recorded exception: %+v", ea)
	}
	if !ea.Covers(lint) || ea.Covers(registry.ToolFinding{Tool: "forecast", Rule: "TM601", Pointer: "/title"}) || !ea.CoversVulnerability("CVE-2020-8203", "ghsa-p6mc-m468-83gw") || ea.CoversVulnerability("CVE-2021-1") {
		t.Fatalf("Covers: %+v", ea)
	}
	// b: every finding, until minute 200, then quarantined before it expires.
	if _, err := approve(kb, &registry.ExceptionRequest{Expires: ptr(at(200)), Findings: []registry.ExceptedFinding{{Kind: registry.ExceptAll}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Quarantine(ctx, registry.Action{Key: kb, Actor: "iss|bob", Reason: "incident 7"}); err != nil {
		t.Fatal(err)
	}
	// c: without expiry, revoked below.
	if _, err := approve(kc, &registry.ExceptionRequest{Findings: []registry.ExceptedFinding{{Kind: registry.ExceptLint, Tool: "forecast", Rule: "TM601", Pointer: "/description"}}}); err != nil {
		t.Fatal(err)
	}

	if rep, err := d.ExpireExceptions(ctx, at(199)); err != nil || rep.Expired != 0 || len(rep.Requeued) != 0 {
		t.Fatalf("sweep before the expiry: %+v %v", rep, err)
	}
	rep, err := d.ExpireExceptions(ctx, at(200))
	if err != nil || rep.Expired != 2 || rep.Failed != 0 || len(rep.Requeued) != 1 || rep.Requeued[0] != ka {
		t.Fatalf("sweep at the expiry: %+v %v, want a and b expired and a re-queued", rep, err)
	}
	if v, _ := s.GetVersion(ctx, ka); v.Status != registry.StatusPendingReview || v.IsLatest {
		t.Fatalf("a after its exception expired: %s latest=%v, want pending_review and not served", v.Status, v.IsLatest)
	}
	if _, err := s.LatestPublished(ctx, ka.Name); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a is still served after its exception expired: %v", err)
	}
	if v, _ := s.GetVersion(ctx, kb); v.Status != registry.StatusQuarantined {
		t.Fatalf("b after its exception expired: %s, want quarantined (unchanged)", v.Status)
	}
	if items, _, err := d.Queue(ctx, nil, 10); err != nil || len(items) != 1 || items[0].Version.Key() != ka {
		t.Fatalf("queue after the sweep: %+v %v, want a back", items, err)
	}
	if es, _ := d.Exceptions(ctx, ka); len(es) != 1 || es[0].Ended == nil || es[0].Ended.Cause != registry.ExceptionExpired || es[0].Ended.Actor != "vetted" || !es[0].Ended.At.Equal(at(200)) {
		t.Fatalf("a's exception after the sweep: %+v", es)
	}
	if rep, err := d.ExpireExceptions(ctx, at(300)); err != nil || rep.Expired != 0 {
		t.Fatalf("second sweep: %+v %v, want nothing to do", rep, err)
	}

	if _, _, err := d.RevokeException(ctx, "no-such-id", "iss|bob", "r"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("revoke a missing exception: %v", err)
	}
	if _, _, err := d.RevokeException(ctx, ea.ID, "iss|bob", "r"); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "already expired") {
		t.Fatalf("revoke an expired exception: %v", err)
	}
	ecs, _ := d.Exceptions(ctx, kc)
	if len(ecs) != 1 {
		t.Fatalf("exceptions of c: %+v", ecs)
	}
	if _, _, err := d.RevokeException(ctx, ecs[0].ID, "iss|bob", " "); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("revoke without a reason: %v", err)
	}
	ec, vc, err := d.RevokeException(ctx, ecs[0].ID, "iss|bob", "the vendor's fix is out")
	if err != nil || ec.Ended == nil || ec.Ended.Cause != registry.ExceptionRevoked || vc.Status != registry.StatusPendingReview {
		t.Fatalf("revoke: %+v %+v %v", ec, vc, err)
	}
	if _, err := d.Exception(ctx, ecs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exceptions(ctx, registry.Key{Name: "io.github.acme/none", Version: "1"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("exceptions of a missing version: %v", err)
	}

	// The chain records who accepted what, the expiries and the revocation, and still
	// replays to the stored statuses.
	events := allAudit(t, s)
	if err := registry.VerifyChain(events); err != nil {
		t.Fatal(err)
	}
	var approval, expiry, revoke *registry.AuditEvent
	for i := range events {
		e := &events[i]
		switch {
		case e.Type == registry.AuditReviewDecision && e.Subject == "io.github.acme/a@1.0.0":
			approval = e
		case e.Type == registry.AuditExceptionExpire && e.Subject == "io.github.acme/a@1.0.0":
			expiry = e
		case e.Type == registry.AuditExceptionRevoke:
			revoke = e
		}
	}
	if approval == nil || !strings.Contains(string(approval.Data), `"exception":{`) || !strings.Contains(string(approval.Data), ea.ID) ||
		!strings.Contains(string(approval.Data), `"GHSA-p6mc-m468-83gw"`) || !strings.Contains(string(approval.Data), at(200).Format(time.RFC3339Nano)) {
		t.Fatalf("approval event: %+v", approval)
	}
	if expiry == nil || expiry.Actor != "vetted" || !strings.Contains(string(expiry.Data), `"to":"pending_review"`) || !strings.Contains(string(expiry.Data), `"stillPresent":[{`) {
		t.Fatalf("expiry event: %+v", expiry)
	}
	if revoke == nil || revoke.Actor != "iss|bob" || !strings.Contains(string(revoke.Data), "the vendor's fix is out") {
		t.Fatalf("revocation event: %+v", revoke)
	}
	var l registry.Ledger
	for _, e := range events {
		l.Add(e)
	}
	for _, k := range []registry.Key{ka, kb, kc} {
		v, _ := s.GetVersion(ctx, k)
		for _, m := range l.Check(v, nil) {
			if m.Kind == registry.MismatchStatus {
				t.Errorf("audit replay: %+v", m)
			}
		}
	}
}

// testExceptionExpiryReevaluates: an exception whose findings are gone when it expires (a
// VEX statement now suppresses the vulnerability) ends without moving the version.
func testExceptionExpiryReevaluates(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	lodash := Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}
	commit(t, s, ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPendingReview, 1, nil, "", lodash))
	ka := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "triage pending",
		Exception: &registry.ExceptionRequest{Expires: ptr(at(200)), Findings: []registry.ExceptedFinding{{Kind: registry.ExceptVulnerability, Vulnerability: "GHSA-p6mc-m468-83gw"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UploadVEX(ctx, registry.VEXUpload{Document: VEXDocument("CVE-2020-8203", "io.github.acme/a@1.0.0"),
		Products: []string{"io.github.acme/a"}, Actor: "iss|alice", Reason: "lodash merge is never called"}); err != nil {
		t.Fatal(err)
	}
	rep, err := d.ExpireExceptions(ctx, at(250))
	if err != nil || rep.Expired != 1 || len(rep.Requeued) != 0 {
		t.Fatalf("sweep: %+v %v, want one expiry and no re-queue", rep, err)
	}
	if v, _ := s.GetVersion(ctx, ka); v.Status != registry.StatusPublished || !v.IsLatest {
		t.Fatalf("a after the expiry: %s, want published (its finding is suppressed now)", v.Status)
	}
	events := allAudit(t, s)
	last := events[len(events)-1]
	if last.Type != registry.AuditExceptionExpire || !strings.Contains(string(last.Data), `"stillPresent":[]`) || !strings.Contains(string(last.Data), `"to":"published"`) {
		t.Fatalf("expiry event: %+v %s", last, last.Data)
	}
}

// testExceptionExpiryJob: the desk's expiry job, scheduled by Jobs, ends an expired
// exception and re-queues its version.
func testExceptionExpiryJob(t *testing.T, s DeskStore) {
	ctx := context.Background()
	now := at(100)
	d := newDesk(t, s, registry.WithDeskClock(func() time.Time { return now }))
	p := ReviewPublication("io.github.acme/a", "1.0.0", registry.StatusPendingReview, 1, nil, "", lodashFinding)
	commit(t, s, p)
	ka := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	if _, err := d.Approve(ctx, registry.Action{Key: ka, Actor: "iss|alice", Reason: "accepted for a day",
		Exception: &registry.ExceptionRequest{Expires: ptr(at(200)), Findings: []registry.ExceptedFinding{{Kind: registry.ExceptAll}}}}); err != nil {
		t.Fatal(err)
	}
	jobs := registry.NewJobs(s, registry.WithJobsClock(func() time.Time { return now }))
	if err := jobs.Register(d.ExpiryJob(time.Minute)); err != nil {
		t.Fatal(err)
	}
	out, err := jobs.RunNow(ctx, registry.ExceptionExpiryJob)
	if rep, ok := out.(registry.ExpiryReport); err != nil || !ok || rep.Expired != 0 {
		t.Fatalf("job before the expiry: %+v %v", out, err)
	}
	now = at(201)
	out, err = jobs.RunNow(ctx, registry.ExceptionExpiryJob)
	if rep, ok := out.(registry.ExpiryReport); err != nil || !ok || rep.Expired != 1 || len(rep.Requeued) != 1 {
		t.Fatalf("job after the expiry: %+v %v", out, err)
	}
	if v, _ := s.GetVersion(ctx, ka); v.Status != registry.StatusPendingReview {
		t.Fatalf("after the job: %s", v.Status)
	}
}

var lodashFinding = Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}

// testDeskServers: the servers page's summary, searched and paged by server name.
func testDeskServers(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	commit(t, s, ReviewPublication("io.github.acme/alpha", "1.0.0", registry.StatusPublished, 1, nil, ""))
	commit(t, s, ReviewPublication("io.github.acme/alpha", "1.1.0", registry.StatusPublished, 2, nil, ""))
	commit(t, s, ReviewPublication("io.github.acme/alpha", "2.0.0", registry.StatusPendingReview, 3, nil, ""))
	commit(t, s, ReviewPublication("io.github.acme/beta", "0.1.0", registry.StatusQuarantined, 4, nil, ""))
	commit(t, s, ReviewPublication("io.github.other/gamma", "3.0.0", registry.StatusPendingReview, 5, nil, ""))
	got, more, err := d.Servers(ctx, registry.ServerQuery{Limit: 2})
	if err != nil || !more || len(got) != 2 {
		t.Fatalf("first page: %+v %v %v", got, more, err)
	}
	a := got[0]
	if a.Name != "io.github.acme/alpha" || a.Latest != "1.1.0" || a.Versions != 3 || a.Counts[registry.StatusPublished] != 2 ||
		a.Counts[registry.StatusPendingReview] != 1 || a.LastVersion != "2.0.0" || a.LastStatus != registry.StatusPendingReview {
		t.Fatalf("alpha: %+v", a)
	}
	if got[1].Name != "io.github.acme/beta" || got[1].Latest != "" || got[1].Counts[registry.StatusQuarantined] != 1 {
		t.Fatalf("beta: %+v", got[1])
	}
	next, more, err := d.Servers(ctx, registry.ServerQuery{Limit: 2, After: got[1].Name})
	if err != nil || more || len(next) != 1 || next[0].Name != "io.github.other/gamma" {
		t.Fatalf("second page: %+v %v %v", next, more, err)
	}
	found, _, err := d.Servers(ctx, registry.ServerQuery{Search: "BET"})
	if err != nil || len(found) != 1 || found[0].Name != "io.github.acme/beta" {
		t.Fatalf("search: %+v %v", found, err)
	}
}

// reportRescanner stands in for the OSV scanner at the Rescanner seam: every version has
// the findings in vulns, and the scan fails on high and above (the report records that
// decision, as the real scanner's does).
type reportRescanner struct {
	snapshot string
	vulns    []Finding
}

func (r *reportRescanner) Rescan(_ context.Context, _ json.RawMessage, p registry.ScanProduct) (*registry.ScanOutcome, error) {
	rep := report.Report{SchemaVersion: report.SchemaVersion, Snapshot: report.Snapshot{ID: r.snapshot}, Findings: []report.Finding{}, NotAssessed: []report.NotAssessed{},
		Summary: report.Summary{Packages: 3, Assessed: 3, BySeverity: map[match.Level]int{}}, Policy: &report.Decision{FailOn: "high", Reasons: []string{}}}
	sum := registry.ScanSummary{SnapshotID: r.snapshot, Packages: 3, Findings: map[string]int{}, Outcome: registry.Pass, Reason: "nothing at or above high"}
	var failing []string
	for _, f := range r.vulns {
		aliases := f.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		rep.Findings = append(rep.Findings, report.Finding{Package: report.Package{Name: f.Package, Version: f.Version, Ecosystem: "npm"},
			Vulnerability: report.Vulnerability{ID: f.ID, Aliases: aliases, Records: []string{f.ID}, Severity: f.Severity}, Fixed: []string{f.Fixed}})
		rep.Summary.BySeverity[match.Level(f.Severity)]++
		sum.Findings[f.Severity]++
		if match.Level(f.Severity).Rank() >= match.LevelHigh.Rank() {
			failing = append(failing, f.ID)
		}
	}
	rep.Summary.Findings = len(rep.Findings)
	if len(failing) > 0 {
		rep.Policy.Failed, rep.Policy.Reasons = true, []string{"findings at or above high"}
		sum.Outcome, sum.Reason = registry.Fail, "vulnerabilities at or above high: "+strings.Join(failing, "; ")
	}
	b, err := json.Marshal(rep)
	return &registry.ScanOutcome{SnapshotID: r.snapshot, Report: b, Summary: sum}, err
}

// testRescanHonoursExceptions: a version released from quarantine with an exception that
// accepts its failing vulnerability stays published through re-scans that still find it
// (the new scan is stored, the exception.apply event says why); a new failing vulnerability
// the exception does not accept quarantines it, naming that vulnerability; once an exception
// has expired the re-scan quarantines as before, and a revoked one re-queues the version
// whose accepted finding the re-scan still reports.
func testRescanHonoursExceptions(t *testing.T, s DeskStore) {
	ctx := context.Background()
	d := newDesk(t, s)
	ka := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	kb := registry.Key{Name: "io.github.acme/b", Version: "1.0.0"}
	kc := registry.Key{Name: "io.github.acme/c", Version: "1.0.0"}
	for i, k := range []registry.Key{ka, kb, kc} {
		p := ReviewPublication(k.Name, k.Version, registry.StatusQuarantined, i+1, nil, "", lodashFinding)
		p.Record.ScanSummary = json.RawMessage(`{"snapshotId":"snap-1","outcome":"fail"}`)
		commit(t, s, p)
	}
	release := func(k registry.Key, expires *time.Time, f registry.ExceptedFinding) registry.Exception {
		t.Helper()
		if _, err := d.Release(ctx, registry.Action{Key: k, Actor: "iss|alice", Reason: "not reachable; the vendor fixes it next week",
			Exception: &registry.ExceptionRequest{Expires: expires, Findings: []registry.ExceptedFinding{f}}}); err != nil {
			t.Fatalf("release %s with an exception: %v", k.Name, err)
		}
		es, err := d.Exceptions(ctx, k)
		var active []registry.Exception
		for _, e := range es {
			if e.Active(at(100)) {
				active = append(active, e)
			}
		}
		if err != nil || len(active) != 1 {
			t.Fatalf("exceptions of %s: %+v %v, want one active", k.Name, es, err)
		}
		return active[0]
	}
	// a accepts lodash by its alias; b accepts every finding until minute 200; c accepts lodash.
	ea := release(ka, nil, registry.ExceptedFinding{Kind: registry.ExceptVulnerability, Vulnerability: "CVE-2020-8203"})
	release(kb, ptr(at(200)), registry.ExceptedFinding{Kind: registry.ExceptAll})
	ec := release(kc, nil, registry.ExceptedFinding{Kind: registry.ExceptVulnerability, Vulnerability: "GHSA-p6mc-m468-83gw"})

	now := at(150)
	sc := &reportRescanner{snapshot: "snap-2", vulns: []Finding{lodashFinding}}
	m := registry.NewMonitor(s, sc, func() time.Time { return now }, nil)
	status := func(k registry.Key) registry.Version {
		t.Helper()
		v, err := s.GetVersion(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	lastOf := func(k registry.Key) registry.AuditEvent {
		t.Helper()
		var last registry.AuditEvent
		for _, e := range allAudit(t, s) {
			if e.Subject == k.Name+"@"+k.Version {
				last = e
			}
		}
		return last
	}

	// 1. The same failing vulnerability on a new snapshot: every version stays published.
	rep, err := m.RescanAll(ctx)
	if err != nil || rep.Scanned != 3 || rep.Failed != 0 || len(rep.Changes) != 0 {
		t.Fatalf("re-scan with the accepted vulnerability: %+v %v, want no change", rep, err)
	}
	for _, k := range []registry.Key{ka, kb, kc} {
		if v := status(k); v.Status != registry.StatusPublished {
			t.Fatalf("%s after the re-scan: %s, want published (its exception accepts the finding)", k.Name, v.Status)
		}
	}
	rec, err := s.VersionRecord(ctx, ka)
	if err != nil || rec.ScanSnapshot != "snap-2" || !strings.Contains(string(rec.ScanSummary), `"outcome":"fail"`) || !strings.Contains(string(rec.ScanReport), "GHSA-p6mc-m468-83gw") {
		t.Fatalf("a's stored scan after the re-scan: %s %s %v, want snap-2's failing scan stored", rec.ScanSnapshot, rec.ScanSummary, err)
	}
	if e := lastOf(ka); e.Type != registry.AuditExceptionApply || e.Actor != "vetted" || !strings.Contains(string(e.Data), ea.ID) ||
		!strings.Contains(string(e.Data), "only on findings an active exception accepts: GHSA-p6mc-m468-83gw (high) in lodash 4.17.15") ||
		!strings.Contains(string(e.Data), `"uncovered":[]`) {
		t.Fatalf("a's last event: %s %s, want exception.apply naming the exception and the finding", e.Type, e.Data)
	}
	events := len(allAudit(t, s))
	if rep, err := m.RescanAll(ctx); err != nil || len(rep.Changes) != 0 || len(allAudit(t, s)) != events {
		t.Fatalf("second re-scan of the same snapshot: %+v %v, want nothing recorded", rep, err)
	}

	// 2. A new critical vulnerability the exception of a does not accept quarantines a and
	// says which; b's "all" exception accepts it too.
	fresh := Finding{ID: "GHSA-2026-0001", Aliases: []string{"CVE-2026-0001"}, Severity: "critical", Package: "minimist", Version: "1.2.0", Fixed: "1.2.6"}
	sc.snapshot, sc.vulns = "snap-3", []Finding{lodashFinding, fresh}
	rep, err = m.RescanAll(ctx)
	if err != nil || len(rep.Changes) != 2 {
		t.Fatalf("re-scan with a new vulnerability: %+v %v, want a and c quarantined", rep, err)
	}
	if ch := rep.Changes[0]; ch.Server != ka.Name || ch.Event != "quarantined" || !strings.Contains(ch.Reason, "not accepted by the version's exception: GHSA-2026-0001 (critical) in minimist 1.2.0;") {
		t.Fatalf("a's change: %+v, want quarantined for GHSA-2026-0001", ch)
	}
	if v := status(ka); v.Status != registry.StatusQuarantined || v.StatusReason != registry.ReasonVulnerability {
		t.Fatalf("a after the new vulnerability: %s (%s), want quarantined for a vulnerability", v.Status, v.StatusReason)
	}
	e := lastOf(ka)
	if e.Type != registry.AuditQuarantine || !strings.Contains(string(e.Data), "on findings no active exception accepts: GHSA-2026-0001 (critical) in minimist 1.2.0") ||
		!strings.Contains(string(e.Data), `"uncovered":["GHSA-2026-0001 (critical) in minimist 1.2.0"]`) {
		t.Fatalf("a's quarantine event: %s %s, want it to name the unaccepted vulnerability only", e.Type, e.Data)
	}
	if v := status(kb); v.Status != registry.StatusPublished {
		t.Fatalf("b (every finding accepted) after the new vulnerability: %s, want published", v.Status)
	}
	if e := lastOf(kb); e.Type != registry.AuditExceptionApply || !strings.Contains(string(e.Data), "GHSA-2026-0001") {
		t.Fatalf("b's last event: %s %s", e.Type, e.Data)
	}

	// 3. b's exception expired at minute 200 (the sweep has not run yet): the re-scan
	// quarantines b as it did before exceptions were honoured.
	now, sc.snapshot = at(250), "snap-4"
	if _, err := m.RescanAll(ctx); err != nil {
		t.Fatal(err)
	}
	if v := status(kb); v.Status != registry.StatusQuarantined || v.StatusReason != registry.ReasonVulnerability {
		t.Fatalf("b after its exception expired: %s (%s), want quarantined", v.Status, v.StatusReason)
	}
	if e := lastOf(kb); e.Type != registry.AuditQuarantine || strings.Contains(string(e.Data), "exception") ||
		!strings.Contains(string(e.Data), "fails the scan policy") {
		t.Fatalf("b's quarantine event: %s %s, want the plain policy failure", e.Type, e.Data)
	}

	// 4. c (quarantined in 2.) is released again accepting every finding, then that exception
	// is revoked: the stored re-scan still reports the findings, so c goes back to review
	// and the re-scans leave it there.
	if _, _, err := d.RevokeException(ctx, ec.ID, "iss|bob", "superseded"); err != nil {
		t.Fatal(err)
	}
	if v := status(kc); v.Status != registry.StatusQuarantined {
		t.Fatalf("c after revoking the exception of a quarantined version: %s, want quarantined (unchanged)", v.Status)
	}
	ec = release(kc, nil, registry.ExceptedFinding{Kind: registry.ExceptAll})
	if v := status(kc); v.Status != registry.StatusPublished {
		t.Fatalf("c after its release: %s", v.Status)
	}
	if _, v, err := d.RevokeException(ctx, ec.ID, "iss|bob", "the fix is out; upgrade"); err != nil || v.Status != registry.StatusPendingReview {
		t.Fatalf("revoke c's exception: %+v %v, want pending_review", v, err)
	}
	if e := lastOf(kc); e.Type != registry.AuditExceptionRevoke || !strings.Contains(string(e.Data), `"stillPresent":[{"kind":"all"}]`) {
		t.Fatalf("c's revocation event: %s %s", e.Type, e.Data)
	}
	sc.snapshot = "snap-5"
	if _, err := m.RescanAll(ctx); err != nil {
		t.Fatal(err)
	}
	if v := status(kc); v.Status != registry.StatusPendingReview {
		t.Fatalf("c after a re-scan: %s, want pending_review (a reviewer decides)", v.Status)
	}
}
