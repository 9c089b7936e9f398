package ui_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func launchDoc(version, runtimeArgs, env string) []byte {
	return []byte(`{"name":"io.github.acme/launcher","version":"` + version + `","packages":[{"registryType":"oci","identifier":"ghcr.io/acme/launcher:` + version +
		`","runtimeHint":"docker","transport":{"type":"stdio"},"runtimeArguments":` + runtimeArgs + `,"environmentVariables":` + env + `}]}`)
}

// A changed launch configuration is shown side by side on the review page, with its findings.
func TestReviewPageLaunchDiff(t *testing.T) {
	e := newEnv(t)
	p1 := storetest.ReviewPublication("io.github.acme/launcher", "1.0.0", registry.StatusPublished, 10, nil, toolsV1)
	p1.Version.ServerJSON = launchDoc("1.0.0", `[{"type":"positional","value":"--rm"},{"type":"named","name":"-e","value":"API_KEY"}]`, `[{"name":"API_KEY","isSecret":true}]`)
	why := []registry.Check{{Name: registry.CheckLaunchDiff, Outcome: registry.Review, Reason: "launch configuration changed since 1.0.0"}}
	p2 := storetest.ReviewPublication("io.github.acme/launcher", "1.1.0", registry.StatusPendingReview, 11, why, toolsV1)
	p2.Version.ServerJSON = launchDoc("1.1.0", `[{"type":"positional","value":"--rm"},{"type":"named","name":"-e","value":"API_KEY"},{"type":"named","name":"-v","value":"/opt/acme:/data"}]`,
		`[{"name":"API_KEY","isSecret":true},{"name":"NODE_OPTIONS","value":"--require /data/hook.js"}]`)
	for _, p := range []registry.Publication{p1, p2} {
		if _, _, err := e.store.CommitPublication(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, e.srv.URL)
	c.login(e.token(t, "alice", auth.RoleReviewer))
	resp, page := c.do("GET", "/ui/review/io.github.acme/launcher/1.1.0", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("review page: %d", resp.StatusCode)
	}
	page = html.UnescapeString(page)
	for _, want := range []string{
		"Launch configuration side by side with 1.0.0",
		"packages[0] ghcr.io/acme/launcher:1.1.0 <span class=\"change c-changed\">changed</span>",
		"(environmentVariables, runtimeArguments)",
		`<ins>      "value": "/opt/acme:/data"</ins>`,
		`<ins>      "name": "NODE_OPTIONS",</ins>`,
		"launch configuration changed",
		"container.bind-mount", "/packages/0/runtimeArguments/2/value",
		"env.interpreter", "/packages/0/environmentVariables/1/name",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	// The previous side holds the old configuration only.
	if i := strings.Index(page, `<del>`); i >= 0 && strings.Contains(page[i:i+200], "NODE_OPTIONS") {
		t.Error("NODE_OPTIONS shown as removed")
	}
	// The first version's page says there is nothing to compare.
	_, page = c.do("GET", "/ui/review/io.github.acme/launcher/1.0.0", nil, nil)
	if !strings.Contains(page, "first version: there is no previous launch configuration") {
		t.Error("first version not said")
	}
}
