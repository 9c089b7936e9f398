package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

func testStatuses(t *testing.T, s registry.Store) {
	ctx := context.Background()
	name := "io.github.acme/weather"
	all := []registry.Status{registry.StatusPendingReview, registry.StatusRejected, registry.StatusQuarantined,
		registry.StatusDeprecated, registry.StatusDeleted}
	// Every hidden status on a version that would otherwise be latest.
	for i, st := range all {
		create(t, s, ver(name, fmt.Sprintf("2.%d.0", i), st, i+1))
	}
	create(t, s, ver(name, "1.0.0", registry.StatusPublished, 0))
	create(t, s, ver("io.github.acme/hidden", "1.0.0", registry.StatusQuarantined, 0))

	if got := latest(t, s, name); got != "1.0.0" {
		t.Fatalf("LatestPublished = %s, want 1.0.0 (every newer version is hidden)", got)
	}
	vs, err := s.ListServerVersions(ctx, name)
	if err != nil {
		t.Fatalf("ListServerVersions: %v", err)
	}
	sameKeys(t, "ListServerVersions (default: published only)", vs, name+"@1.0.0")

	page, more, err := s.ListVersionsPage(ctx, registry.ListQuery{Limit: 100})
	if err != nil || more {
		t.Fatalf("ListVersionsPage: more=%v err=%v", more, err)
	}
	sameKeys(t, "ListVersionsPage (default: published only)", page, name+"@1.0.0")

	for i, st := range all {
		vs, err := s.ListServerVersions(ctx, name, st)
		if err != nil {
			t.Fatalf("ListServerVersions(%s): %v", st, err)
		}
		sameKeys(t, "ListServerVersions("+string(st)+")", vs, fmt.Sprintf("%s@2.%d.0", name, i))
		if vs[0].IsLatest {
			t.Fatalf("%s version has IsLatest set", st)
		}
	}
	page, _, err = s.ListVersionsPage(ctx, registry.ListQuery{Limit: 100, Statuses: []registry.Status{registry.StatusQuarantined}})
	if err != nil {
		t.Fatalf("ListVersionsPage(quarantined): %v", err)
	}
	sameKeys(t, "ListVersionsPage(quarantined)", page, "io.github.acme/hidden@1.0.0", name+"@2.2.0")

	vs, err = s.ListServerVersions(ctx, name, registry.StatusPublished, registry.StatusDeleted)
	if err != nil {
		t.Fatalf("ListServerVersions(published, deleted): %v", err)
	}
	sameKeys(t, "ListServerVersions(published, deleted), oldest first", vs, name+"@1.0.0", name+"@2.4.0")
}

// testLatestRules publishes versions in order (one minute apart) and checks which is latest
// after each step.
func testLatestRules(t *testing.T, s registry.Store) {
	cases := []struct {
		name     string
		versions []string
		want     string
	}{
		{"highest semver, not the newest", []string{"1.0.0", "2.0.0", "1.5.0"}, "2.0.0"},
		{"numeric, not string, order", []string{"1.9.0", "1.10.0", "1.2.0"}, "1.10.0"},
		{"prerelease of a higher version beats a lower release", []string{"2.0.0-rc.1", "1.9.0"}, "2.0.0-rc.1"},
		{"release beats its prerelease", []string{"2.0.0-rc.1", "2.0.0"}, "2.0.0"},
		{"release beats a later prerelease", []string{"2.0.0", "2.0.0-rc.1"}, "2.0.0"},
		{"prerelease precedence", []string{"1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha.1", "1.0.0-alpha"}, "1.0.0-rc.1"},
		{"numeric prerelease identifiers", []string{"1.0.0-beta.11", "1.0.0-beta.2"}, "1.0.0-beta.11"},
		{"semver beats a newer non-semver", []string{"1.0.0", "nightly-2026"}, "1.0.0"},
		{"semver beats an older non-semver", []string{"nightly-2026", "0.0.1"}, "0.0.1"},
		{"non-semver by publish time", []string{"zeta", "alpha"}, "alpha"},
		{"leading v is semver", []string{"v1.2.3", "1.2.2"}, "v1.2.3"},
		{"build metadata is ignored; the first published keeps latest (upstream v1.8.0)", []string{"1.0.0+b2", "1.0.0+b1"}, "1.0.0+b2"},
		{"incomplete versions are not semver", []string{"1.0.0", "2.0"}, "1.0.0"},
	}
	ctx := context.Background()
	for i, c := range cases {
		name := fmt.Sprintf("io.github.acme/latest-%02d", i)
		for j, v := range c.versions {
			create(t, s, ver(name, v, registry.StatusPublished, j))
		}
		if got := latest(t, s, name); got != c.want {
			t.Errorf("%s: latest of %v = %s, want %s", c.name, c.versions, got, c.want)
		}
		vs, err := s.ListServerVersions(ctx, name)
		if err != nil {
			t.Fatalf("ListServerVersions: %v", err)
		}
		n := 0
		for _, v := range vs {
			if v.IsLatest {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d versions have IsLatest set, want exactly 1", c.name, n)
		}
	}
}

func testLatestRecomputed(t *testing.T, s registry.Store) {
	name := "io.github.acme/weather"
	create(t, s, ver(name, "1.0.0", registry.StatusPublished, 0))
	create(t, s, ver(name, "2.0.0", registry.StatusPublished, 1))
	steps := []struct {
		what    string
		do      func()
		want    string // "" means nothing published
		flagged string // the version that must (alone) carry IsLatest
	}{
		{"quarantine the latest", func() { setStatus(t, s, name, "2.0.0", registry.StatusQuarantined, 2) }, "1.0.0", "1.0.0"},
		{"a pending newer version", func() { create(t, s, ver(name, "3.0.0", registry.StatusPendingReview, 3)) }, "1.0.0", "1.0.0"},
		{"release the quarantined one", func() { setStatus(t, s, name, "2.0.0", registry.StatusPublished, 4) }, "2.0.0", "2.0.0"},
		{"approve the pending one", func() { setStatus(t, s, name, "3.0.0", registry.StatusPublished, 5) }, "3.0.0", "3.0.0"},
		{"reject an older one", func() { setStatus(t, s, name, "1.0.0", registry.StatusRejected, 6) }, "3.0.0", "3.0.0"},
		{"delete the latest", func() { setStatus(t, s, name, "3.0.0", registry.StatusDeleted, 7) }, "2.0.0", "2.0.0"},
		{"deprecate the last one", func() { setStatus(t, s, name, "2.0.0", registry.StatusDeprecated, 8) }, "", ""},
		{"republish an old one", func() { setStatus(t, s, name, "1.0.0", registry.StatusPublished, 9) }, "1.0.0", "1.0.0"},
	}
	ctx := context.Background()
	for _, st := range steps {
		st.do()
		if st.want == "" {
			_, err := s.LatestPublished(ctx, name)
			wantErr(t, "LatestPublished after: "+st.what, err, registry.ErrNotFound, name)
		} else if got := latest(t, s, name); got != st.want {
			t.Fatalf("after %q: latest = %s, want %s", st.what, got, st.want)
		}
		all, err := s.ListServerVersions(ctx, name, registry.StatusPublished, registry.StatusPendingReview, registry.StatusRejected,
			registry.StatusQuarantined, registry.StatusDeprecated, registry.StatusDeleted)
		if err != nil {
			t.Fatalf("ListServerVersions: %v", err)
		}
		var flagged []string
		for _, v := range all {
			if v.IsLatest {
				flagged = append(flagged, v.Version)
			}
		}
		want := []string{}
		if st.flagged != "" {
			want = []string{st.flagged}
		}
		if fmt.Sprint(flagged) != fmt.Sprint(want) {
			t.Fatalf("after %q: IsLatest set on %v, want %v", st.what, flagged, want)
		}
	}
}
