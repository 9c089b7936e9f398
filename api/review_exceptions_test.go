package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// An approval that accepts findings records an exception shown on the review read, listed,
// and revocable; revoking it sends the version back to the queue.
func TestReviewAPIExceptions(t *testing.T) {
	e := newReviewEnv(t)
	lint := registry.ToolFinding{Tool: "forecast", Rule: "TM601", Severity: "high", Pointer: "/description", Message: "directive to the model"}
	p := storetest.ReviewPublication("io.github.acme/weather", "1.0.0", registry.StatusPendingReview, 1,
		[]registry.Check{{Name: registry.CheckToolsLint, Outcome: registry.Review, Reason: "1 lint finding(s) need review"}}, "", lodash)
	p.Record.ToolReport = storetest.ToolReport(lint)
	e.commit(t, p)
	reviewer := e.token(t, "alice", auth.RoleReviewer)
	base := api.ReviewPrefix + "/servers/io.github.acme%2Fweather/versions/1.0.0"
	expires := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)

	bad := []struct {
		name   string
		body   any
		status int
		want   []string
	}{
		{"finding the version lacks", map[string]any{"reason": "ok", "exception": map[string]any{"findings": []map[string]string{{"kind": "lint", "tool": "forecast", "rule": "TM999", "pointer": "/description"}}}},
			http.StatusBadRequest, []string{"body.exception.findings[0]", "no lint finding TM999"}},
		{"unknown kind", map[string]any{"reason": "ok", "exception": map[string]any{"findings": []map[string]string{{"kind": "everything"}}}},
			http.StatusUnprocessableEntity, []string{"kind"}},
		{"no findings", map[string]any{"reason": "ok", "exception": map[string]any{"findings": []any{}}}, http.StatusUnprocessableEntity, []string{"findings"}},
		{"past expiry", map[string]any{"reason": "ok", "exception": map[string]any{"findings": []map[string]string{{"kind": "all"}}, "expires": "2020-01-01T00:00:00Z"}},
			http.StatusBadRequest, []string{"body.exception.expires", "not in the future"}},
	}
	for _, c := range bad {
		code, body, _ := e.do(t, http.MethodPost, base+"/approve", reviewer, c.body)
		for _, w := range c.want {
			if code != c.status || !strings.Contains(string(body), w) {
				t.Errorf("%s: %d %s, want %d naming %q", c.name, code, body, c.status, w)
			}
		}
	}

	code, body, _ := e.do(t, http.MethodPost, base+"/approve", reviewer, map[string]any{"reason": "the vendor ships a fix next week",
		"exception": map[string]any{"expires": expires, "findings": []map[string]string{
			{"kind": "lint", "tool": "forecast", "rule": "TM601", "pointer": "/description"},
			{"kind": "vulnerability", "vulnerability": "CVE-2020-8203"}}}})
	if code != http.StatusOK || !strings.Contains(string(body), `"status":"published"`) {
		t.Fatalf("approve with an exception: %d %s", code, body)
	}
	code, body, _ = e.do(t, http.MethodGet, base, reviewer, nil)
	var rv api.ReviewVersion
	if code != http.StatusOK || json.Unmarshal(body, &rv) != nil || len(rv.Exceptions) != 1 {
		t.Fatalf("review version: %d %s", code, body)
	}
	x := rv.Exceptions[0]
	if !x.Active || x.Reason != "the vendor ships a fix next week" || x.Actor != reviewResource+"|alice" || x.Expires == nil || !x.Expires.Equal(expires) ||
		len(x.Findings) != 2 || x.Findings[1].Vulnerability != lodash.ID {
		t.Fatalf("exception on the review read: %+v", x)
	}
	code, body, _ = e.do(t, http.MethodGet, base+"/exceptions", reviewer, nil)
	var list api.ExceptionList
	if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Exceptions) != 1 || list.Exceptions[0].ID != x.ID {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, body, _ := e.do(t, http.MethodGet, api.ReviewPrefix+"/servers/io.github.acme%2Fnone/versions/1.0.0/exceptions", reviewer, nil); code != http.StatusNotFound {
		t.Fatalf("exceptions of a missing version: %d %s", code, body)
	}
	if code, body, _ := e.do(t, http.MethodPost, base+"/quarantine", reviewer, map[string]any{"reason": "x", "exception": map[string]any{"findings": []map[string]string{{"kind": "all"}}}}); code == http.StatusOK {
		t.Fatalf("quarantine with an exception: %d %s", code, body)
	}

	revoke := api.ReviewPrefix + "/exceptions/" + x.ID + "/revoke"
	if code, _, _ := e.do(t, http.MethodPost, revoke, e.token(t, "ci", auth.RolePublisher), map[string]string{"reason": "x"}); code != http.StatusForbidden {
		t.Fatalf("publisher revokes: %d", code)
	}
	code, body, _ = e.do(t, http.MethodPost, revoke, reviewer, map[string]string{"reason": "the fix is out"})
	var rev api.RevokedException
	if code != http.StatusOK || json.Unmarshal(body, &rev) != nil || rev.Status != "pending_review" || rev.Exception.Active || rev.Exception.Ended == nil ||
		rev.Exception.Ended.Cause != registry.ExceptionRevoked {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _, _ := e.do(t, http.MethodPost, revoke, reviewer, map[string]string{"reason": "again"}); code != http.StatusConflict {
		t.Fatalf("revoke twice: %d", code)
	}
	if code, _, _ := e.do(t, http.MethodPost, api.ReviewPrefix+"/exceptions/nope/revoke", reviewer, map[string]string{"reason": "x"}); code != http.StatusNotFound {
		t.Fatalf("revoke a missing exception: %d", code)
	}
	if code, _, _ := e.do(t, http.MethodGet, "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0", "", nil); code != http.StatusNotFound {
		t.Fatalf("version served after its exception was revoked: %d", code)
	}
	code, body, _ = e.do(t, http.MethodGet, api.ReviewPrefix+"/audit?type=exception.revoke", reviewer, nil)
	if code != http.StatusOK || !strings.Contains(string(body), "the fix is out") || !strings.Contains(string(body), `"to":"pending_review"`) {
		t.Fatalf("audit of the revocation: %d %s", code, body)
	}
}
