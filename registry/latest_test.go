package registry

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSemverOrder checks precedence on the SemVer 2.0.0 spec's own example chain, plus
// numeric (not string) comparison of every part.
func TestSemverOrder(t *testing.T) {
	chain := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0-0", "2.0.0", "v10.0.0",
	}
	for i := 0; i+1 < len(chain); i++ {
		a, okA := parseSemver(chain[i])
		b, okB := parseSemver(chain[i+1])
		if !okA || !okB {
			t.Fatalf("parse %q ok=%v, %q ok=%v", chain[i], okA, chain[i+1], okB)
		}
		if c := compareSemver(a, b); c != -1 {
			t.Errorf("compare(%s, %s) = %d, want -1", chain[i], chain[i+1], c)
		}
		if c := compareSemver(b, a); c != 1 {
			t.Errorf("compare(%s, %s) = %d, want 1", chain[i+1], chain[i], c)
		}
	}
	a, _ := parseSemver("1.0.0+build.1")
	b, _ := parseSemver("1.0.0+build.2")
	if c := compareSemver(a, b); c != 0 {
		t.Errorf("build metadata changed precedence: %d", c)
	}
}

func TestParseSemverRejects(t *testing.T) {
	for _, s := range []string{"", "1", "1.0", "1.0.0.0", "01.0.0", "1.00.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b",
		"1.0.0-é", "latest", "v", "1.0.x", "-1.0.0", "1.0.0 "} {
		if _, ok := parseSemver(s); ok {
			t.Errorf("parseSemver(%q) accepted a non-semver version", s)
		}
	}
	for _, s := range []string{"0.0.0", "v1.2.3", "1.0.0-0A.is.legal", "1.0.0+0.build.1-rc.10000aaa-kk-0.1", "1.0.0-x-y-z.--"} {
		if _, ok := parseSemver(s); !ok {
			t.Errorf("parseSemver(%q) rejected a valid semver version", s)
		}
	}
}

func TestLatest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := func(s string, minutes int) Version {
		return Version{Version: s, Status: StatusPublished, PublishedAt: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	cases := []struct {
		name string
		vs   []Version
		want string
	}{
		{"empty", nil, ""},
		{"one", []Version{v("anything", 0)}, "anything"},
		{"semver beats non-semver published later", []Version{v("1.0.0", 0), v("zzz", 5)}, "1.0.0"},
		{"non-semver by time", []Version{v("b", 5), v("a", 9), v("c", 1)}, "a"},
		{"prerelease below release", []Version{v("1.0.0", 0), v("1.0.0-rc.1", 5)}, "1.0.0"},
		{"equal precedence: first published stays (upstream)", []Version{v("1.0.0+a", 5), v("1.0.0+b", 0)}, "1.0.0+b"},
	}
	for _, c := range cases {
		i := Latest(c.vs)
		got := ""
		if i >= 0 {
			got = c.vs[i].Version
		}
		if got != c.want {
			t.Errorf("%s: Latest = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestLatestOfIgnoresHiddenAndOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vs := []Version{
		{Version: "9.0.0", Status: StatusQuarantined, PublishedAt: t0},
		{Version: "1.0.0+b", Status: StatusPublished, PublishedAt: t0},
		{Version: "1.0.0+a", Status: StatusPublished, PublishedAt: t0},
	}
	if got, ok := LatestOf(vs); !ok || got != "1.0.0+a" {
		t.Fatalf("LatestOf = %q, %v; want the smallest string on a full tie, 1.0.0+a", got, ok)
	}
	vs[0], vs[2] = vs[2], vs[0]
	if got, _ := LatestOf(vs); got != "1.0.0+a" {
		t.Fatalf("LatestOf depends on input order: %q", got)
	}
	if _, ok := LatestOf(vs[2:]); ok {
		t.Fatal("LatestOf found a latest among hidden versions only")
	}
}

func TestPrepareNew(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 999, time.FixedZone("X", 3600))
	v, err := PrepareNew(Version{Name: "a/b", Version: "1", Status: StatusPublished, ServerJSON: []byte("{}"), IsLatest: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if v.PublishedAt != StoreTime(now) || v.PublishedAt.Location() != time.UTC || v.UpdatedAt != v.PublishedAt ||
		v.IsLatest || string(v.Served) != "{}" || v.ContentDigest != ContentDigest([]byte("{}")) ||
		!strings.HasPrefix(v.ContentDigest, "sha256:") {
		t.Fatalf("PrepareNew = %+v", v)
	}
	_, err = PrepareNew(Version{Name: "a/b", Version: "1", Status: "nope", ServerJSON: []byte("{}")}, now)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `unknown status "nope"`) {
		t.Fatalf("PrepareNew with a bad status: %v", err)
	}
}

func TestPlanBulk(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	existing := []Version{{Name: "a/b", Version: "2.0.0", Status: StatusPublished, ContentDigest: "sha256:x", PublishedAt: t0}}
	plan, err := PlanBulk(existing, []Version{
		{Name: "a/b", Version: "2.0.0", Status: StatusPublished, ContentDigest: "sha256:x", PublishedAt: t0},
		{Name: "a/b", Version: "1.0.0", Status: StatusPublished, ContentDigest: "sha256:y", PublishedAt: t0},
	})
	if err != nil || len(plan.New) != 1 || plan.New[0].Version != "1.0.0" || plan.Latest != "2.0.0" {
		t.Fatalf("PlanBulk = %+v, %v", plan, err)
	}
	_, err = PlanBulk(existing, []Version{{Name: "a/b", Version: "2.0.0", ContentDigest: "sha256:z"}})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "a/b@2.0.0") {
		t.Fatalf("PlanBulk with different content: %v", err)
	}
}

// Upstream (registry v1.8.0 internal/service.CompareVersions and its publish path): a newly
// published version becomes latest only if it compares strictly greater; 3.0.0+a and
// 3.0.0+b compare equal, so the one published first stays latest, whatever the order given.
func TestLatestBuildMetadataTieKeepsFirstPublished(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := Version{Version: "3.0.0+a", PublishedAt: t0}
	b := Version{Version: "3.0.0+b", PublishedAt: t0.Add(time.Hour)}
	for _, vs := range [][]Version{{a, b}, {b, a}} {
		if i := Latest(vs); vs[i].Version != "3.0.0+a" {
			t.Errorf("Latest(%s, %s) = %s, want 3.0.0+a (published first)", vs[0].Version, vs[1].Version, vs[i].Version)
		}
	}
	// A strictly greater version still wins, and non-semver ties go to the later one.
	c := Version{Version: "3.0.1", PublishedAt: t0.Add(-time.Hour)}
	if i := Latest([]Version{a, b, c}); i != 2 {
		t.Errorf("Latest with 3.0.1 = %d", i)
	}
	x, y := Version{Version: "snapshot-1", PublishedAt: t0}, Version{Version: "snapshot-2", PublishedAt: t0.Add(time.Hour)}
	if i := Latest([]Version{y, x}); i != 0 {
		t.Errorf("non-semver: Latest = %d, want the later published", i)
	}
}
