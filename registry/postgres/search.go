package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// Search on PostgreSQL goes through pg_trgm's GIN index (migration 0006). The index needs
// every trigram of the pattern it is given, and the trigrams that nearly every name holds
// ("org", "git", "hub", " io") have posting lists as long as the catalogue: a term such as
// "io.github.org01238/" made the index read hundreds of pages per search at 100,000 servers
// where its digits alone read a handful. So the index is asked only for the part of the
// term that its statistics (search_trigrams, migration 0011, kept by triggers) say is
// cheapest, and the whole term is checked on the candidates with a condition the index
// does not cover. The answers do not depend on the statistics: any part of the term keeps
// every name that contains the term, and the whole-term condition decides.

// Costs of the index read, in pages: looking a trigram up in the index, one page of a
// posting list, and fetching and rechecking one candidate row.
const (
	trigramLookup   = 3.0
	postingsPerPage = 4000.0
	maxWindow       = 4 // trigrams in the part asked of the index, at most
)

// narrowSearch is the dialect's SearchNarrow: the condition keeping the names that contain
// term (ASCII case-insensitively), whose indexed half asks the index only for the
// statistically rarest part of term.
func narrowSearch(ctx context.Context, db *sql.DB, term string) (string, []any, error) {
	runs := alnumRuns(term)
	if len(runs) == 0 {
		cond, args := searchFilter(term)
		return cond, args, nil
	}
	want := []string{""}
	for _, r := range runs {
		want = append(want, trigrams(r)...)
	}
	rows, err := db.QueryContext(ctx, `SELECT trigram, n FROM search_trigrams WHERE trigram = ANY($1)`, want)
	if err != nil {
		return "", nil, fmt.Errorf("trigram statistics: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]int64, len(want))
	for rows.Next() {
		var (
			t string
			n int64
		)
		if err := rows.Scan(&t, &n); err != nil {
			return "", nil, fmt.Errorf("trigram statistics: %w", err)
		}
		counts[t] = n
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("trigram statistics: %w", err)
	}
	part := cheapestPart(runs, counts)
	if part == strings.ToLower(term) {
		cond, args := searchFilter(term)
		return cond, args, nil
	}
	return `name ILIKE ? ESCAPE '\' AND (name || '') ILIKE ? ESCAPE '\'`,
		[]any{"%" + part + "%", "%" + sqlstore.EscapeLike(term) + "%"}, nil
}

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

// trigrams returns the len(run)-2 trigrams inside run, in order.
func trigrams(run string) []string {
	var out []string
	for i := 0; i+3 <= len(run); i++ {
		out = append(out, run[i:i+3])
	}
	return out
}

// cheapestPart returns the substring of one of runs (each at least three characters) whose
// index read is estimated cheapest: each trigram costs a lookup and its posting list's
// pages, each expected candidate a fetch and recheck. Candidates are estimated as if the
// trigrams were independent, which makes a longer part look more selective than it is; the
// posting-list term keeps the common trigrams out all the same. counts holds each trigram's
// number of names (absent: none) and under "" the number of names.
func cheapestPart(runs []string, counts map[string]int64) string {
	total := float64(counts[""])
	for _, n := range counts {
		total = max(total, float64(n))
	}
	total = max(total, 1)
	best, bestCost := "", 0.0
	for _, r := range runs {
		ts := trigrams(r)
		for i := range ts {
			pages, frac := 0.0, 1.0
			for k := 0; k < maxWindow && i+k < len(ts); k++ {
				n := float64(counts[ts[i+k]])
				pages += trigramLookup + n/postingsPerPage
				frac *= n / total
				if cost := pages + total*frac; best == "" || cost < bestCost {
					best, bestCost = r[i:i+k+3], cost
				}
			}
		}
	}
	return best
}
