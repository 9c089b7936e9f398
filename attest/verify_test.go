package attest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

func TestVerifyKeylessReferrers(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		name := "referrers-api"
		if !referrers {
			name = "referrers-tag-fallback"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, referrers)
			digest := f.reg.PushImage(t, "acme/weather", "v1")
			id := ghIdentity()
			f.attachKeyless("acme/weather", digest, id, attest.PredicateCosignSign, `{}`)
			f.attachKeyless("acme/weather", digest, id, attest.PredicateSPDX, spdxDoc)
			f.attachKeyless("acme/weather", digest, id, attest.PredicateSLSAv1, slsaV1)
			f.attachKeyless("acme/weather", digest, id, attest.PredicateToolManifest, toolsDoc)

			res := f.verify(f.reg.Ref("acme/weather", "v1"), keylessPolicy, attest.WithSourceRepository("https://github.com/acme/weather.git"))
			if !res.Passed {
				t.Fatalf("want pass:\n%s", res.Summary())
			}
			if res.Digest != digest {
				t.Errorf("digest %s, want %s", res.Digest, digest)
			}
			if len(res.Items) != 4 {
				t.Fatalf("%d items, want 4:\n%s", len(res.Items), res.Summary())
			}
			for _, it := range res.Items {
				if it.SignerIdentity != ghWorkflow || it.Issuer != ghIssuer || it.SubjectDigest != digest {
					t.Errorf("item %+v: wrong identity/issuer/subject", it)
				}
				if len(it.LogEntries) != 1 || len(it.Timestamps) == 0 {
					t.Errorf("item %s: %d log entries, %d timestamps", it.Kind, len(it.LogEntries), len(it.Timestamps))
				}
			}
			p := res.Provenance
			if p == nil || p.BuilderID != "https://github.com/actions/runner/github-hosted" || p.SourceRepo != ghRepo ||
				p.Ref != "refs/heads/main" || p.Commit != "0123456789abcdef0123456789abcdef01234567" ||
				p.Workflow != ".github/workflows/release.yml" || p.Trigger != "push" || p.Runner != "github-hosted" {
				t.Errorf("provenance %+v", p)
			}
			if res.SBOM == nil || string(res.SBOM.Predicate) != spdxDoc {
				t.Errorf("sbom evidence %+v", res.SBOM)
			}
			if res.ToolManifest == nil || string(res.ToolManifest.Predicate) != toolsDoc || res.ToolManifest.PredicateType != attest.PredicateToolManifest {
				t.Errorf("tool manifest evidence %+v", res.ToolManifest)
			}
			// The result round-trips through JSON for storage.
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			var back attest.Result
			if err := json.Unmarshal(js, &back); err != nil || !back.Passed || len(back.Items) != 4 || back.Provenance.Commit != p.Commit {
				t.Fatalf("JSON round trip: %v %+v", err, back)
			}
		})
	}
}

// TestVerifyReferrersRouteUnknown: a registry that answers 405 on the referrers route is
// treated as one without the API, and the referrers tag is used.
func TestVerifyReferrersRouteUnknown(t *testing.T) {
	ss := sigtest.New(t)
	var refuse atomic.Bool
	reg := sigtest.NewRegistry(t, false, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() && strings.Contains(r.URL.Path, "/referrers/") {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	f := &fixture{t: t, ss: ss, reg: reg}
	d := reg.PushImage(t, "acme/weather", "v1")
	f.attachKeyless("acme/weather", d, ghIdentity(), attest.PredicateCosignSign, `{}`)
	refuse.Store(true)
	if res := f.verify(reg.Ref("acme/weather", "v1"), sigPolicy); !res.Passed {
		t.Fatalf("want pass:\n%s", res.Summary())
	}
}

// TestVerifyMissingTag: a reference that does not exist fails the resolve check.
func TestVerifyMissingTag(t *testing.T) {
	f := newFixture(t, true)
	f.reg.PushImage(t, "acme/weather", "v1")
	res := f.verify(f.reg.Ref("acme/weather", "v2"), sigPolicy)
	wantFail(t, res, attest.CheckResolve, "manifest v2: not found", "", "")
	if res.Digest != "" || len(res.Items) != 0 {
		t.Errorf("result %+v", res)
	}
}
