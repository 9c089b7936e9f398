package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
)

// The approval form's exception fields: what a reviewer ticks is what the exception records,
// and a malformed or incomplete form is a 400 that says what to fix, with nothing changed.
func TestApproveFormException(t *testing.T) {
	e := newEnv(t)
	c := newClient(t, e.srv.URL)
	c.login(e.token(t, "alice@acme.example", auth.RoleReviewer))
	_, page := c.do("GET", "/ui/review/io.github.acme/notes/0.3.0", nil, nil)
	csrf := csrfOf(t, page)
	for _, want := range []string{`value="vulnerability|GHSA-xvch-5gv4-984h"`, `id="accept-expires"`, `value="all"`} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("approval form lacks %s", want)
		}
	}
	approve := "/ui/versions/io.github.acme/notes/0.3.0/approve"
	bad := []struct {
		name string
		form url.Values
		want string
	}{
		{"expiry without findings", url.Values{"reason": {"ok"}, "expires": {"2099-01-01"}}, "no finding is ticked"},
		{"malformed finding", url.Values{"reason": {"ok"}, "accept": {"lint|only-a-tool"}}, "malformed"},
		{"bad expiry", url.Values{"reason": {"ok"}, "accept": {"all"}, "expires": {"next week"}}, "The expiry: want a date"},
		{"past expiry", url.Values{"reason": {"ok"}, "accept": {"all"}, "expires": {"2020-01-01"}}, "not in the future"},
		{"a finding it does not have", url.Values{"reason": {"ok"}, "accept": {"vulnerability|CVE-2099-1"}}, "no finding of vulnerability"},
	}
	for _, b := range bad {
		b.form.Set("csrf", csrf)
		resp, body := c.do("POST", approve, b.form, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), b.want) {
			t.Errorf("%s: %d, want 400 saying %q:\n%s", b.name, resp.StatusCode, b.want, body)
		}
	}
	k := registry.Key{Name: "io.github.acme/notes", Version: "0.3.0"}
	if v, _ := e.store.GetVersion(context.Background(), k); v.Status != registry.StatusPendingReview {
		t.Fatalf("a refused form changed the status to %s", v.Status)
	}
	resp, _ := c.do("POST", approve, url.Values{"csrf": {csrf}, "reason": {"minimist is only used by the build"},
		"accept": {"vulnerability|CVE-2021-44906"}, "expires": {"2099-06-30"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve with an exception: %d", resp.StatusCode)
	}
	es, err := e.store.Exceptions(context.Background(), registry.ExceptionQuery{Key: &k})
	if err != nil || len(es) != 1 || es[0].Findings[0].Vulnerability != "GHSA-xvch-5gv4-984h" || es[0].Expires == nil ||
		es[0].Expires.Format("2006-01-02") != "2099-06-30" || es[0].Reason != "minimist is only used by the build" {
		t.Fatalf("recorded exception: %+v %v", es, err)
	}
	_, page = c.do("GET", "/ui/versions/io.github.acme/notes/0.3.0", nil, nil)
	if !strings.Contains(page, "GHSA-xvch-5gv4-984h") || !strings.Contains(page, "2099-06-30 00:00 UTC") || !strings.Contains(page, "in effect") {
		t.Fatalf("version page does not show the exception")
	}
}
