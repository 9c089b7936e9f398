package postgres

import (
	"context"
	"database/sql"
	"strings"

	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// Search on PostgreSQL goes through pg_trgm's GIN index (migration 0006). The index is
// asked only for the part of the term that search_trigrams' counts (migration 0011, kept by
// triggers) say is cheapest (sqlstore.CheapestPart), and the whole term is checked on the
// candidates with a condition the index does not cover.

// newTrigramCounts returns a store's cache of search_trigrams' counts.
func newTrigramCounts() *sqlstore.TrigramCounts {
	return sqlstore.NewTrigramCounts(func(missing []string) (string, []any) {
		return `SELECT trigram, n FROM search_trigrams WHERE trigram = ANY($1)`, []any{missing}
	})
}

// narrow is the dialect's SearchNarrow: the condition keeping the names that contain term
// (ASCII case-insensitively), whose indexed half asks the index only for the statistically
// rarest part of term. The condition is Generic when the index is asked for a run of ASCII
// letters and digits (at least one trigram): its plan, an index read, suits every value.
// A term without such a run keeps the plain condition planned with its values, where the
// planner may prefer reading every name to an index read of no trigram.
func narrow(ctx context.Context, c *sqlstore.TrigramCounts, db *sql.DB, term string) (sqlstore.SearchCond, error) {
	runs := alnumRuns(term)
	if len(runs) == 0 {
		cond, args := searchFilter(term)
		return sqlstore.SearchCond{Cond: cond, Args: args}, nil
	}
	want := []string{""}
	for _, r := range runs {
		want = append(want, sqlstore.Trigrams(r)...)
	}
	counts, err := c.Counts(ctx, db, want)
	if err != nil {
		return sqlstore.SearchCond{}, err
	}
	part := sqlstore.CheapestPart(runs, counts)
	generic := sqlstore.PartBound(part, counts) <= genericMaxNames
	if part == strings.ToLower(term) {
		cond, args := searchFilter(term)
		return sqlstore.SearchCond{Cond: cond, Args: args, Generic: generic}, nil
	}
	return sqlstore.SearchCond{
		Cond:    `name ILIKE ? ESCAPE '\' AND (name || '') ILIKE ? ESCAPE '\'`,
		Args:    []any{"%" + part + "%", "%" + sqlstore.EscapeLike(term) + "%"},
		Generic: generic,
	}, nil
}

// genericMaxNames is the most names a part may be held by (by its rarest trigram's count)
// for the search to run on a generic plan. That plan reads the part's names from the
// index, then all their versions, and sorts them for the page: right for a rare part. For
// a part that many names hold ("weather"), the planner given the values walks the versions
// in order and stops at the page's end instead, which a generic plan cannot know to do
// (measured at 100,000 servers: a common word took seconds on the generic plan).
const genericMaxNames = 1000

// searchFilter is the plain indexed condition: the index reads every trigram of term.
func searchFilter(term string) (string, []any) {
	return `name ILIKE ? ESCAPE '\'`, []any{"%" + sqlstore.EscapeLike(term) + "%"}
}

// alnumRuns returns term's maximal runs of ASCII letters and digits, lower-cased, of at
// least three characters: the words whose inner trigrams pg_trgm extracts from a pattern
// '%run%' exactly as it stored them for names (it splits on every other character). Other
// letters are left out: whether pg_trgm counts them as word characters depends on the
// database's locale.
func alnumRuns(term string) []string {
	var runs []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start >= 3 {
			runs = append(runs, strings.ToLower(term[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(term); i++ {
		c := term[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(term))
	return runs
}
