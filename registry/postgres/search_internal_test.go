package postgres

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestAlnumRuns(t *testing.T) {
	for term, want := range map[string][]string{
		"io.github.Org01238/weather": {"github", "org01238", "weather"},
		"io.gi":                      {},
		"ab_cd-EFG":                  {"efg"},
		"%é日abc":                     {"abc"},
		"K":                          {},
		"ſabc":                       {"abc"},
		"":                           {},
	} {
		got := alnumRuns(term)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("alnumRuns(%q) = %q, want %q", term, got, want)
		}
	}
}

// The common trigrams every name shares stay out of what the index is asked for: the
// part chosen is the rare one, whatever its place in the term.
func TestCheapestPartAvoidsCommonTrigrams(t *testing.T) {
	const total = 100_000
	counts := map[string]int64{"": total}
	for _, tr := range trigrams("github") {
		counts[tr] = total
	}
	for _, tr := range trigrams("org") {
		counts[tr] = total
	}
	counts["rg0"], counts["g01"] = total, 10_000
	for _, tr := range []string{"012", "123", "238"} {
		counts[tr] = 300
	}
	for _, tr := range trigrams("weather") {
		counts[tr] = 2_000
	}
	got := cheapestPart([]string{"github", "org01238", "weather"}, counts)
	if !strings.Contains("01238", got) || len(got) < 4 {
		t.Errorf("cheapestPart = %q, want a part of the digits 01238 of at least two trigrams (300 names each, every other trigram in 2,000 or more)", got)
	}
	// A trigram no name holds is the cheapest there is: the index answers nothing at once.
	counts["xq7"], counts["axq"] = 0, total
	if got := cheapestPart([]string{"github", "axq7"}, counts); got != "xq7" {
		t.Errorf("cheapestPart with a trigram no name holds = %q, want xq7", got)
	}
}

// Whatever the statistics say, the part chosen is a substring of the lower-cased term, so
// that every name containing the term contains it.
func TestCheapestPartIsInTheTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcXYZ019./-_é"
	for range 2000 {
		var b strings.Builder
		for range 1 + rng.IntN(24) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		term := b.String()
		runs := alnumRuns(term)
		if len(runs) == 0 {
			continue
		}
		counts := map[string]int64{"": int64(rng.IntN(1000))}
		for _, r := range runs {
			for _, tr := range trigrams(r) {
				if rng.IntN(4) > 0 {
					counts[tr] = int64(rng.IntN(2000))
				}
			}
		}
		got := cheapestPart(runs, counts)
		if len(got) < 3 || !strings.Contains(strings.ToLower(term), got) {
			t.Fatalf("cheapestPart(%q) = %q: not a part of three or more characters of the lower-cased term", term, got)
		}
	}
}

// A search runs on a generic plan only when the part the index is asked for is rare; a
// part that many names hold, or a term without a run of letters and digits, is planned
// with its values. The counts come from the store's cache, so no database is needed.
func TestNarrowGenericOnlyForRareParts(t *testing.T) {
	c := newTrigramCounts()
	fresh := c.now()
	set := func(n int64, ts ...string) {
		for _, tg := range ts {
			c.m[tg] = trigramCount{n: n, read: fresh}
		}
	}
	set(100000, "")
	set(100000, "thu", "hub", "org")
	set(5000, "wea", "eat", "ath", "the", "her")
	set(3, "rg0", "g01", "012", "123", "238")
	for _, tc := range []struct {
		term    string
		generic bool
	}{
		{"org01238/weather", true}, // the digits: three names at most
		{"weather", false},         // 5,000 names
		{"thub", false},
		{"/w", false}, // no trigram: no index read to plan
	} {
		got, err := c.narrow(context.Background(), nil, tc.term)
		if err != nil {
			t.Fatalf("%q: %v", tc.term, err)
		}
		if got.Generic != tc.generic {
			t.Errorf("%q: Generic = %v, want %v (condition %s %v)", tc.term, got.Generic, tc.generic, got.Cond, got.Args)
		}
	}
}
