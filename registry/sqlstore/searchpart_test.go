package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	_ "modernc.org/sqlite" // a real database for the counts' reads

	"github.com/vetted-dev/vetted/registry/sqlstore"
)

func TestTrigrams(t *testing.T) {
	for run, want := range map[string][]string{
		"org01":   {"org", "rg0", "g01"},
		"ab":      nil,
		"abc":     {"abc"},
		"é日本語x":   {"é日本", "日本語", "本語x"},
		"a.b/c-d": {"a.b", ".b/", "b/c", "/c-", "c-d"},
	} {
		if got := sqlstore.Trigrams(run); !slices.Equal(got, want) {
			t.Errorf("Trigrams(%q) = %q, want %q", run, got, want)
		}
	}
}

// The common trigrams every name shares stay out of what the index is asked for: the
// part chosen is the rare one, whatever its place in the term.
func TestCheapestPartAvoidsCommonTrigrams(t *testing.T) {
	const total = 100_000
	counts := map[string]int64{"": total}
	for _, tr := range sqlstore.Trigrams("io.github.org") {
		counts[tr] = total
	}
	counts["rg0"], counts["g01"] = total, 10_000
	for _, tr := range []string{"012", "123", "238"} {
		counts[tr] = 300
	}
	for _, tr := range sqlstore.Trigrams("38/weather") {
		counts[tr] = 2_000
	}
	for _, runs := range [][]string{
		{"github", "org01238", "weather"},  // PostgreSQL: runs of letters and digits
		{"io.github.org01238/weather"},     // SQLite: the whole term
		{"weather", "org01238", "github"},  // in another order
		{"01238/weather", "io.github.org"}, // the rare part first
	} {
		got := sqlstore.CheapestPart(runs, counts)
		if !strings.Contains("01238", got) || len(got) < 4 {
			t.Errorf("CheapestPart(%q) = %q, want a part of the digits 01238 of at least two trigrams (300 names each, every other trigram in 2,000 or more)", runs, got)
		}
	}
	// A trigram no name holds is the cheapest there is: the index answers nothing at once.
	counts["xq7"], counts["axq"] = 0, total
	if got := sqlstore.CheapestPart([]string{"github", "axq7"}, counts); got != "xq7" {
		t.Errorf("CheapestPart with a trigram no name holds = %q, want xq7", got)
	}
}

// Whatever the counts say, the part chosen is a substring of three or more characters of
// one of the runs, so that every name containing the term contains it.
func TestCheapestPartIsInTheTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ019./-_é日")
	for range 2000 {
		var runs []string
		for range 1 + rng.IntN(3) {
			var b strings.Builder
			for range 3 + rng.IntN(20) {
				b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			runs = append(runs, b.String())
		}
		counts := map[string]int64{"": int64(rng.IntN(1000))}
		for _, r := range runs {
			for _, tr := range sqlstore.Trigrams(r) {
				if rng.IntN(4) > 0 {
					counts[tr] = int64(rng.IntN(2000))
				}
			}
		}
		got := sqlstore.CheapestPart(runs, counts)
		if utf8.RuneCountInString(got) < 3 || !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, got) }) {
			t.Fatalf("CheapestPart(%q) = %q: not a part of three or more characters of a run", runs, got)
		}
		if b := sqlstore.PartBound(got, counts); b > counts[""] && b > 2000 {
			t.Fatalf("PartBound(%q) = %d: more than any count", got, b)
		}
	}
}

// Counts reads only the trigrams it has not read within the TTL, and a trigram the
// database does not answer for counts 0.
func TestTrigramCountsReadsMissesOnly(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "counts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE counts (t TEXT PRIMARY KEY, n INTEGER NOT NULL);
		INSERT INTO counts VALUES ('', 10), ('abc', 4), ('bcd', 7)`); err != nil {
		t.Fatal(err)
	}
	var asked [][]string
	c := sqlstore.NewTrigramCounts(func(missing []string) (string, []any) {
		asked = append(asked, slices.Clone(missing))
		list, _ := json.Marshal(missing)
		return `SELECT t, n FROM counts WHERE t IN (SELECT value FROM json_each(?))`, []any{string(list)}
	})
	got, err := c.Counts(ctx, db, []string{"", "abc", "zzz", "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if got[""] != 10 || got["abc"] != 4 || got["zzz"] != 0 || len(got) != 3 {
		t.Fatalf("first Counts = %v", got)
	}
	if _, err := db.ExecContext(ctx, `UPDATE counts SET n = 99 WHERE t = 'abc'`); err != nil {
		t.Fatal(err)
	}
	got, err = c.Counts(ctx, db, []string{"abc", "bcd", "zzz"})
	if err != nil {
		t.Fatal(err)
	}
	if got["abc"] != 4 || got["bcd"] != 7 || got["zzz"] != 0 {
		t.Fatalf("second Counts = %v (abc was read within the TTL: want its count then, 4)", got)
	}
	if want := [][]string{{"", "abc", "zzz"}, {"bcd"}}; !slices.EqualFunc(asked, want, slices.Equal) {
		t.Fatalf("read %q, want %q", asked, want)
	}
	// A failing read is an error naming the counts, and nothing is cached from it.
	if _, err := db.ExecContext(ctx, `DROP TABLE counts`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Counts(ctx, db, []string{"xyz"}); err == nil || !strings.Contains(err.Error(), "trigram counts") {
		t.Fatalf("Counts with the table gone: err = %v, want one naming the trigram counts", err)
	}
}
