package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// The review API shows the launch findings and the launch diff with the previous version.
func TestReviewAPILaunchDiff(t *testing.T) {
	e := newReviewEnv(t)
	doc := func(version, args string) []byte {
		return []byte(`{"name":"io.github.acme/weather","version":"` + version + `","packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:` + version +
			`","runtimeHint":"docker","transport":{"type":"stdio"},"runtimeArguments":` + args + `}]}`)
	}
	p1 := storetest.ReviewPublication("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0, nil, `{"tools":[]}`)
	p1.Version.ServerJSON = doc("1.0.0", `[{"type":"positional","value":"--rm"}]`)
	p2 := storetest.ReviewPublication("io.github.acme/weather", "1.1.0", registry.StatusPendingReview, 1,
		[]registry.Check{{Name: registry.CheckLaunchDiff, Outcome: registry.Review, Reason: "launch configuration changed since 1.0.0"}}, `{"tools":[]}`)
	p2.Version.ServerJSON = doc("1.1.0", `[{"type":"positional","value":"--rm"},{"type":"named","name":"--entrypoint","value":"/usr/bin/node"}]`)
	e.commit(t, p1)
	e.commit(t, p2)
	code, body, _ := e.do(t, http.MethodGet, api.ReviewPrefix+"/servers/io.github.acme%2Fweather/versions/1.1.0", e.token(t, "alice", auth.RoleReviewer), nil)
	var rv api.ReviewVersion
	if code != http.StatusOK || json.Unmarshal(body, &rv) != nil {
		t.Fatalf("%d %s", code, body)
	}
	if rv.PreviousVersion != "1.0.0" || len(rv.LaunchDiff) != 1 || rv.LaunchDiff[0].Kind != "changed" || rv.LaunchDiff[0].Fields[0] != "runtimeArguments" ||
		len(rv.LaunchFindings) != 1 || rv.LaunchFindings[0].Rule != "container.entrypoint" || rv.LaunchFindings[0].Pointer != "/packages/0/runtimeArguments/1/name" ||
		len(rv.Why) != 1 || rv.Why[0].Kind != "launch configuration changed" {
		t.Fatalf("review version: %s", body)
	}
}
