package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
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
