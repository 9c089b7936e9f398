package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

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

// trigramCounts is a store's copy of search_trigrams' counts, read as searches need them
// and kept for countsTTL. Reading them for every search cost a statement and a round trip
// per search; the counts only steer which part of a term the index is asked for (the
// answers never depend on them), so counts some seconds old do as well.
type trigramCounts struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]trigramCount // trigram ("": the number of names) -> its count
}

type trigramCount struct {
	n    int64
	read time.Time
}

const (
	countsTTL         = 30 * time.Second
	maxCachedTrigrams = 1 << 16 // about 4 MiB; the cache starts over when full
)

func newTrigramCounts() *trigramCounts {
	return &trigramCounts{ttl: countsTTL, now: time.Now, m: map[string]trigramCount{}}
}

// counts returns the count of every trigram in want (absent from the table: 0), reading
// from the database only those not read within the TTL.
func (c *trigramCounts) counts(ctx context.Context, db *sql.DB, want []string) (map[string]int64, error) {
	now := c.now()
	out := make(map[string]int64, len(want))
	var missing []string
	c.mu.Lock()
	for _, t := range want {
		if e, ok := c.m[t]; ok && now.Sub(e.read) < c.ttl {
			out[t] = e.n
		} else if _, dup := out[t]; !dup {
			out[t] = 0
			missing = append(missing, t)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT trigram, n FROM search_trigrams WHERE trigram = ANY($1)`, missing)
	if err != nil {
		return nil, fmt.Errorf("trigram statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t string
			n int64
		)
		if err := rows.Scan(&t, &n); err != nil {
			return nil, fmt.Errorf("trigram statistics: %w", err)
		}
		out[t] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trigram statistics: %w", err)
	}
	c.mu.Lock()
	if len(c.m)+len(missing) > maxCachedTrigrams {
		clear(c.m)
	}
	for _, t := range missing {
		c.m[t] = trigramCount{n: out[t], read: now}
	}
	c.mu.Unlock()
	return out, nil
}

// narrow is the dialect's SearchNarrow: the condition keeping the names that contain term
// (ASCII case-insensitively), whose indexed half asks the index only for the statistically
// rarest part of term. The condition is Generic when the index is asked for a run of ASCII
// letters and digits (at least one trigram): its plan, an index read, suits every value.
// A term without such a run keeps the plain condition planned with its values, where the
// planner may prefer reading every name to an index read of no trigram.
func (c *trigramCounts) narrow(ctx context.Context, db *sql.DB, term string) (sqlstore.SearchCond, error) {
	runs := alnumRuns(term)
	if len(runs) == 0 {
		cond, args := searchFilter(term)
		return sqlstore.SearchCond{Cond: cond, Args: args}, nil
	}
	want := []string{""}
	for _, r := range runs {
		want = append(want, trigrams(r)...)
	}
	counts, err := c.counts(ctx, db, want)
	if err != nil {
		return sqlstore.SearchCond{}, err
	}
	part := cheapestPart(runs, counts)
	generic := partBound(part, counts) <= genericMaxNames
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

// partBound returns the count of part's rarest trigram: at most that many names hold part.
func partBound(part string, counts map[string]int64) int64 {
	bound := int64(-1)
	for _, t := range trigrams(part) {
		if n := counts[t]; bound < 0 || n < bound {
			bound = n
		}
	}
	if bound < 0 {
		return counts[""]
	}
	return bound
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
