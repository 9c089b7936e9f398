package sqlite_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// The counts only choose the part of a term the index is asked for: with counts that have
// nothing to do with the names (as stale ones may), search still answers exactly.
func TestSearchIgnoresWrongCounts(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vetted.db"))
	c := sqlite.Counts(s)
	if c == nil {
		t.Fatal("the store's search does not narrow")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	chars := []rune("abcdeksi0123456789.-")
	for _, a := range chars {
		for _, b := range chars {
			for _, d := range chars {
				c.Set(string([]rune{a, b, d}), int64(rng.IntN(5000)))
			}
		}
	}
	c.Set("", int64(rng.IntN(100)))
	storetest.SearchConformance(t, s)
}
