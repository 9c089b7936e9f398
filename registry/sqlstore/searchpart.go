package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"time"
)

// Both dialects search through a trigram index that needs every trigram of the pattern it
// is given, and the trigrams nearly every name holds ("org", "git", "hub") have posting
// lists as long as the catalogue: a term such as "io.github.org01238/" read hundreds of
// pages per search at 100,000 servers where its digits alone read a handful. So each
// dialect asks its index only for the part of the term that the trigram counts say is
// cheapest (CheapestPart), and checks the whole term on the few candidates with a condition
// the index does not cover. The answers never depend on the counts: any part of the term
// is held by every name that holds the term, and the whole-term condition decides.

// Costs of the index read, in pages: looking a trigram up in the index, one page of a
// posting list, and fetching and rechecking one candidate row.
const (
	trigramLookup   = 3.0
	postingsPerPage = 4000.0
	maxWindow       = 4 // trigrams in the part asked of the index, at most
)

// TrigramCounts is a store's copy of its index's trigram counts (how many names hold each
// trigram; under "" the number of names), read as searches need them and kept for a TTL.
// Reading them for every search cost a statement per search; the counts only steer which
// part of a term the index is asked for, so counts some seconds old do as well.
type TrigramCounts struct {
	query CountsQuery
	ttl   time.Duration
	now   func() time.Time

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

// CountsQuery returns the dialect's statement and arguments reading the counts of the
// trigrams in missing (and of "", the number of names, when missing holds it): rows of
// (trigram, count); a trigram without a row counts 0.
type CountsQuery func(missing []string) (query string, args []any)

// NewTrigramCounts returns an empty cache whose misses are read with query.
func NewTrigramCounts(query CountsQuery) *TrigramCounts {
	return &TrigramCounts{query: query, ttl: countsTTL, now: time.Now, m: map[string]trigramCount{}}
}

// SearchNarrow returns a Dialect.SearchNarrow that calls narrow with the cache c.
func (c *TrigramCounts) SearchNarrow(narrow func(ctx context.Context, c *TrigramCounts, db *sql.DB, term string) (SearchCond, error)) func(context.Context, *sql.DB, string) (SearchCond, error) {
	return func(ctx context.Context, db *sql.DB, term string) (SearchCond, error) {
		return narrow(ctx, c, db, term)
	}
}

// read reads the counts of missing from db.
func (c *TrigramCounts) read(ctx context.Context, db *sql.DB, missing []string) (map[string]int64, error) {
	query, args := c.query(missing)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int64, len(missing))
	for rows.Next() {
		var (
			t string
			n int64
		)
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, rows.Err()
}

// Set records n as trigram t's count, read now (tests use it to give the store counts of
// their choosing, as the database's would be between two reads).
func (c *TrigramCounts) Set(t string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[t] = trigramCount{n: n, read: c.now()}
}

// Counts returns the count of every trigram in want (absent from the database: 0), reading
// from db only those not read within the TTL.
func (c *TrigramCounts) Counts(ctx context.Context, db *sql.DB, want []string) (map[string]int64, error) {
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
	got, err := c.read(ctx, db, missing)
	if err != nil {
		return nil, fmt.Errorf("trigram counts: %w", err)
	}
	for _, t := range missing {
		out[t] = got[t]
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

// Trigrams returns the trigrams inside run (windows of three characters), in order.
func Trigrams(run string) []string {
	at := charStarts(run)
	var out []string
	for i := 0; i+3 < len(at); i++ {
		out = append(out, run[at[i]:at[i+3]])
	}
	return out
}

// charStarts returns the byte offset of each character of s, then len(s).
func charStarts(s string) []int {
	at := make([]int, 0, len(s)+1)
	for i := range s {
		at = append(at, i)
	}
	return append(at, len(s))
}

// CheapestPart returns the substring of one of runs (each at least three characters) whose
// index read is estimated cheapest: each trigram costs a lookup and its posting list's
// pages, each expected candidate a fetch and recheck.
//
// The candidates of a part are estimated from its trigrams' shares of the names: the
// rarest one's share, times the square root of each other's. Consecutive trigrams overlap
// by two characters, so they are far from independent: multiplying whole shares (as if
// they were) made a part of four digits look as selective as one of five, when at 100,000
// names it kept twenty candidates to the other's one; ignoring all but the rarest would
// never prefer a longer part. counts holds each trigram's number of names (absent: none)
// and under "" the number of names.
func CheapestPart(runs []string, counts map[string]int64) string {
	total := float64(counts[""])
	for _, n := range counts {
		total = max(total, float64(n))
	}
	total = max(total, 1)
	best, bestCost := "", 0.0
	for _, r := range runs {
		at := charStarts(r)
		ts := Trigrams(r)
		for i := range ts {
			pages, rarest, roots := 0.0, 1.0, 1.0
			for k := 0; k < maxWindow && i+k < len(ts); k++ {
				n := float64(counts[ts[i+k]])
				pages += trigramLookup + n/postingsPerPage
				share := n / total
				rarest, roots = min(rarest, share), roots*math.Sqrt(share)
				frac := roots * math.Sqrt(rarest) // rarest × √(each other share)
				if cost := pages + total*frac; best == "" || cost < bestCost {
					best, bestCost = r[at[i]:at[i+k+3]], cost
				}
			}
		}
	}
	return best
}

// PartBound returns the count of part's rarest trigram: at most that many names hold part.
func PartBound(part string, counts map[string]int64) int64 {
	bound := int64(-1)
	for _, t := range Trigrams(part) {
		if n := counts[t]; bound < 0 || n < bound {
			bound = n
		}
	}
	if bound < 0 {
		return counts[""]
	}
	return bound
}
