package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// walk pages through q from the start and returns everything, failing on a page that
// breaks the order or the limit.
func walk(t *testing.T, s registry.Store, q registry.ListQuery, between func(page int, last registry.Key)) []registry.Version {
	t.Helper()
	var all []registry.Version
	q.After = nil
	for page := 0; ; page++ {
		vs, more, err := s.ListVersionsPage(context.Background(), q)
		if err != nil {
			t.Fatalf("ListVersionsPage page %d: %v", page, err)
		}
		if len(vs) > q.Limit {
			t.Fatalf("page %d has %d versions, limit %d", page, len(vs), q.Limit)
		}
		if more && len(vs) != q.Limit {
			t.Fatalf("page %d: more=true with a short page (%d < %d)", page, len(vs), q.Limit)
		}
		all = append(all, vs...)
		if !more {
			return all
		}
		last := vs[len(vs)-1].Key()
		if between != nil {
			between(page, last)
		}
		q.After = &last
		if page > 10000 {
			t.Fatalf("paging does not end")
		}
	}
}

func less(a, b registry.Key) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Version < b.Version
}

func strictlyOrdered(t *testing.T, vs []registry.Version) {
	t.Helper()
	for i := 1; i < len(vs); i++ {
		if !less(vs[i-1].Key(), vs[i].Key()) {
			t.Fatalf("listing not strictly ordered by (name, version): %s then %s", keys(vs[i-1 : i])[0], keys(vs[i : i+1])[0])
		}
	}
}

// seed creates servers × versions; every third version is pending, so that hidden rows are
// interleaved with visible ones. It returns the published keys in (name, version) order.
func seed(t *testing.T, s registry.Store, servers, versions int) []string {
	var want []registry.Version
	for i := 0; i < servers; i++ {
		for j := 0; j < versions; j++ {
			st := registry.StatusPublished
			if (i+j)%3 == 2 {
				st = registry.StatusPendingReview
			}
			v := create(t, s, ver(fmt.Sprintf("io.github.org%02d/server-%02d", i%7, i), fmt.Sprintf("1.%d.0", j), st, i*versions+j))
			if st == registry.StatusPublished {
				want = append(want, v)
			}
		}
	}
	sort.Slice(want, func(i, j int) bool { return less(want[i].Key(), want[j].Key()) })
	return keys(want)
}

func testPaging(t *testing.T, s registry.Store) {
	want := seed(t, s, 23, 4)
	for _, limit := range []int{1, 7, len(want) - 1, len(want), 100} {
		got := walk(t, s, registry.ListQuery{Limit: limit}, nil)
		strictlyOrdered(t, got)
		sameKeys(t, fmt.Sprintf("all pages with limit %d", limit), got, want...)
	}
	// A cursor that names no stored version still works: keyset, not offset.
	vs, _, err := s.ListVersionsPage(context.Background(), registry.ListQuery{Limit: 1, After: &registry.Key{Name: "io.github.org03", Version: ""}})
	if err != nil {
		t.Fatalf("ListVersionsPage after a made-up key: %v", err)
	}
	var first string
	for _, k := range want {
		if k > "io.github.org03" {
			first = k
			break
		}
	}
	sameKeys(t, "page after a key that is not stored", vs, first)
	// Past the end: empty, no more.
	last := registry.Key{Name: "zzz"}
	vs, more, err := s.ListVersionsPage(context.Background(), registry.ListQuery{Limit: 5, After: &last})
	if err != nil || len(vs) != 0 || more {
		t.Fatalf("page past the end = %v, more=%v, err=%v; want empty", keys(vs), more, err)
	}
}

func testPagingStableUnderInserts(t *testing.T, s registry.Store) {
	before := seed(t, s, 10, 3)
	var after, skipped []string
	got := walk(t, s, registry.ListQuery{Limit: 4}, func(page int, last registry.Key) {
		// One version sorting before the cursor (must not appear: already passed) and one
		// after it (must appear: not reached yet).
		early := ver("io.github.aaa/early", fmt.Sprintf("1.0.%d", page), registry.StatusPublished, 1000+page)
		late := ver("io.github.zzz/late", fmt.Sprintf("1.0.%d", page), registry.StatusPublished, 1000+page)
		create(t, s, early)
		create(t, s, late)
		skipped = append(skipped, early.Name+"@"+early.Version)
		after = append(after, late.Name+"@"+late.Version)
	})
	strictlyOrdered(t, got)
	seen := map[string]bool{}
	for _, k := range keys(got) {
		if seen[k] {
			t.Fatalf("%s listed twice", k)
		}
		seen[k] = true
	}
	for _, k := range before {
		if !seen[k] {
			t.Fatalf("%s, stored before paging began, is missing (a gap)", k)
		}
	}
	for _, k := range after {
		if !seen[k] {
			t.Fatalf("%s, inserted ahead of the cursor, is missing", k)
		}
	}
	for _, k := range skipped {
		if seen[k] {
			t.Fatalf("%s, inserted behind the cursor, was listed", k)
		}
	}
}

func testLatestOnly(t *testing.T, s registry.Store) {
	seed(t, s, 12, 4)
	create(t, s, ver("io.github.none/hidden", "1.0.0", registry.StatusQuarantined, 0))
	got := walk(t, s, registry.ListQuery{Limit: 5, LatestOnly: true}, nil)
	strictlyOrdered(t, got)
	if len(got) != 12 {
		t.Fatalf("LatestOnly listed %d versions, want 12 (one per server with something published): %v", len(got), keys(got))
	}
	for _, v := range got {
		if !v.IsLatest || v.Status != registry.StatusPublished {
			t.Fatalf("LatestOnly listed %s@%s with IsLatest=%v status=%s", v.Name, v.Version, v.IsLatest, v.Status)
		}
		if l := latest(t, s, v.Name); l != v.Version {
			t.Fatalf("LatestOnly listed %s@%s, LatestPublished says %s", v.Name, v.Version, l)
		}
	}
}

func testSearch(t *testing.T, s registry.Store) {
	for i, n := range []string{"io.github.Acme/Weather", "com.example/weather-pro", "org.other/maps", "org.x/my_tool", "org.x/myXtool", "org.x/100%"} {
		create(t, s, ver(n, "1.0.0", registry.StatusPublished, i))
	}
	create(t, s, ver("org.hidden/weather", "1.0.0", registry.StatusPendingReview, 9))
	cases := []struct {
		search string
		want   []string
	}{
		{"WEATHER", []string{"com.example/weather-pro@1.0.0", "io.github.Acme/Weather@1.0.0"}},
		{"acme/w", []string{"io.github.Acme/Weather@1.0.0"}},
		{"my_tool", []string{"org.x/my_tool@1.0.0"}},
		{"%", []string{"org.x/100%@1.0.0"}},
		{"nothing-like-it", nil},
	}
	for _, c := range cases {
		got := walk(t, s, registry.ListQuery{Limit: 1, Search: c.search}, nil)
		sameKeys(t, fmt.Sprintf("search %q", c.search), got, c.want...)
	}
	got := walk(t, s, registry.ListQuery{Limit: 10, Search: "x/", LatestOnly: true}, nil)
	sameKeys(t, "search with LatestOnly", got, "org.x/100%@1.0.0", "org.x/myXtool@1.0.0", "org.x/my_tool@1.0.0") // byte order: X < _
}

func testUpdatedSince(t *testing.T, s registry.Store) {
	name := "io.github.acme/weather"
	for i := 0; i < 5; i++ {
		create(t, s, ver(name, fmt.Sprintf("1.%d.0", i), registry.StatusPublished, i*10))
	}
	q := registry.ListQuery{Limit: 2, UpdatedSince: at(20)}
	sameKeys(t, "updated since minute 20 (inclusive)", walk(t, s, q, nil), name+"@1.2.0", name+"@1.3.0", name+"@1.4.0")

	// A status change moves UpdatedAt: the old version shows up again once republished.
	setStatus(t, s, name, "1.0.0", registry.StatusQuarantined, 50)
	setStatus(t, s, name, "1.0.0", registry.StatusPublished, 60)
	q.UpdatedSince = at(45)
	sameKeys(t, "updated since minute 45", walk(t, s, q, nil), name+"@1.0.0")
	q.UpdatedSince = at(61)
	sameKeys(t, "updated since minute 61", walk(t, s, q, nil))
}

func testExactVersion(t *testing.T, s registry.Store) {
	all := seed(t, s, 9, 3)
	var want []string
	for _, k := range all {
		if len(k) > 6 && k[len(k)-6:] == "@1.1.0" {
			want = append(want, k)
		}
	}
	if len(want) == 0 {
		t.Fatal("seed published no 1.1.0")
	}
	got := walk(t, s, registry.ListQuery{Limit: 2, Version: "1.1.0"}, nil)
	sameKeys(t, "versions equal to 1.1.0", got, want...)
	got = walk(t, s, registry.ListQuery{Limit: 2, Version: "1.1.0", Search: "org01"}, nil)
	var narrowed []string
	for _, k := range want {
		if strings.Contains(k, "org01") {
			narrowed = append(narrowed, k)
		}
	}
	sameKeys(t, "versions equal to 1.1.0 in org01", got, narrowed...)
	sameKeys(t, "a version nobody has", walk(t, s, registry.ListQuery{Limit: 2, Version: "9.9.9"}, nil))
}
