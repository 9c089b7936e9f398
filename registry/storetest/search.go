package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// searchAlphabet mixes ASCII letters of both cases with the characters whose folding
// differs between ASCII-only and Unicode case-insensitivity (the Kelvin sign folds to k,
// the long s to s, dotted capital I to i), LIKE's wildcards and escape, and a quote.
var searchAlphabet = []rune("abcdeksiABCDEKSI0123456789.-_%\\\"éÉßKſİ日")

// searchNames returns n random server names over searchAlphabet.
func searchNames(rng *rand.Rand, n int) []string {
	word := func(min, max int) string {
		var b strings.Builder
		for range min + rng.IntN(max-min+1) {
			b.WriteRune(searchAlphabet[rng.IntN(len(searchAlphabet))])
		}
		return b.String()
	}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		name := "io." + word(3, 8) + "/" + word(3, 10)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// searchTerms returns random terms: substrings of names with their ASCII case flipped at
// random (they must match), and random strings (they mostly must not).
func searchTerms(rng *rand.Rand, names []string, n int) []string {
	var out []string
	for len(out) < n {
		if rng.IntN(3) == 0 {
			var b strings.Builder
			for range 1 + rng.IntN(6) {
				b.WriteRune(searchAlphabet[rng.IntN(len(searchAlphabet))])
			}
			out = append(out, b.String())
			continue
		}
		r := []rune(names[rng.IntN(len(names))])
		i := rng.IntN(len(r))
		j := min(len(r), i+1+rng.IntN(8))
		t := []rune(string(r[i:j]))
		for k, c := range t {
			if c < 128 && rng.IntN(2) == 0 {
				t[k] = []rune(strings.ToUpper(string(c)))[0]
			}
		}
		out = append(out, string(t))
	}
	return out
}

// oldScan is search as defined (and as the full scan answered it): the names containing
// term, ASCII letters compared case-insensitively, every other character literally.
func oldScan(names []string, term string) []string {
	var out []string
	for _, n := range names {
		if strings.Contains(asciiLower(n), asciiLower(term)) {
			out = append(out, n+"@1.0.0")
		}
	}
	sort.Strings(out)
	return out
}

func searchAll(t *testing.T, s registry.Store, term string) []string {
	t.Helper()
	var got []string
	q := registry.ListQuery{Limit: registry.MaxListLimit, Search: term}
	for {
		page, more, err := s.ListVersionsPage(context.Background(), q)
		if err != nil {
			t.Fatalf("search %q: %v", term, err)
		}
		got = append(got, keys(page)...)
		if !more || len(page) == 0 {
			return got
		}
		k := page[len(page)-1].Key()
		q.After = &k
	}
}

func seedSearch(t *testing.T, s registry.Store, names []string) {
	t.Helper()
	vs := make([]registry.Version, len(names))
	for i, n := range names {
		vs[i] = ver(n, "1.0.0", registry.StatusPublished, i)
	}
	b, ok := s.(registry.BulkCreator)
	if !ok {
		t.Fatalf("%T cannot bulk create", s)
	}
	if _, err := b.CreateVersions(context.Background(), vs); err != nil {
		t.Fatal(err)
	}
}

// checkSearch compares the store's answers with the old scan's on every term.
func checkSearch(t *testing.T, s registry.Store, names, terms []string) {
	t.Helper()
	matched := 0
	for _, term := range terms {
		want := oldScan(names, term)
		if got := searchAll(t, s, term); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("search %q:\n got  %q\n want %q (the full scan's answer)", term, got, want)
		}
		if len(want) > 0 {
			matched++
		}
	}
	if matched < len(terms)/2 {
		t.Fatalf("only %d of %d terms matched anything: the test does not exercise the index", matched, len(terms))
	}
}

// testSearchIndex checks that the indexed search answers exactly what the full scan did, on
// random names and terms.
func testSearchIndex(t *testing.T, s registry.Store) {
	rng := rand.New(rand.NewPCG(17, 15))
	names := searchNames(rng, 200)
	seedSearch(t, s, names)
	terms := append(searchTerms(rng, names, 150), "K", "k", "ſ", "s", "İ", "i", "É", "é", "%", "_", "\\", `"`, `""`, "日", "ik", "IK", "é%")
	checkSearch(t, s, names, terms)
}

// testSearchMigration rolls a store back to before the search index, with servers stored,
// and opens it again: the migration must index the existing names.
func testSearchMigration(t *testing.T, b Backend) {
	s := b.New(t)
	rng := rand.New(rand.NewPCG(3, 4))
	names := searchNames(rng, 60)
	seedSearch(t, s, names)
	if b.Placeholder(1) == "?" {
		for _, tr := range []string{"insert", "delete", "update"} {
			b.Exec(t, s, `DROP TRIGGER servers_search_`+tr)
		}
		b.Exec(t, s, `DROP TABLE servers_search`)
	} else {
		b.Exec(t, s, `DROP INDEX servers_name_trgm`)
	}
	b.Exec(t, s, `DELETE FROM schema_migrations WHERE version = 6`)
	again := b.Second(t, s)
	checkSearch(t, again, names, searchTerms(rng, names, 40))
}

// SearchConformance checks s's search against the definition on random names and terms (s
// must be empty). The backends run it on a store opened with sqlstore.WithSearchScan, the
// benchmark's stand-in for the search before the index, so that the benchmark compares two
// ways to the same answers.
func SearchConformance(t *testing.T, s registry.Store) { testSearchIndex(t, s) }
