package postgres

import (
	"context"
	"slices"
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

// A search runs on a generic plan only when the part the index is asked for is rare; a
// part that many names hold, or a term without a run of letters and digits, is planned
// with its values. The counts come from the store's cache, so no database is needed.
func TestNarrowGenericOnlyForRareParts(t *testing.T) {
	c := newTrigramCounts()
	set := func(n int64, ts ...string) {
		for _, tg := range ts {
			c.Set(tg, n)
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
		got, err := narrow(context.Background(), c, nil, tc.term)
		if err != nil {
			t.Fatalf("%q: %v", tc.term, err)
		}
		if got.Generic != tc.generic {
			t.Errorf("%q: Generic = %v, want %v (condition %s %v)", tc.term, got.Generic, tc.generic, got.Cond, got.Args)
		}
	}
}
