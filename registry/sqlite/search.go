package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// Search on SQLite goes through the FTS5 trigram index of server names (migration 0006).
// The index is asked only for the part of the term that its vocabulary's counts
// (servers_search_vocab, migration 0011) say is cheapest (sqlstore.CheapestPart), and LIKE
// checks the whole term on the candidates.

// newTrigramCounts returns a store's cache of the index's trigram counts, read from its
// vocabulary: for each trigram, how many names hold it; under "", how many names there are.
// One statement text whatever the number of trigrams (a JSON array, not a placeholder
// each); the vocabulary table looks each one up (its term = constraint).
func newTrigramCounts() *sqlstore.TrigramCounts {
	return sqlstore.NewTrigramCounts(func(missing []string) (string, []any) {
		list, _ := json.Marshal(missing) // strings always marshal
		return `SELECT term, doc FROM servers_search_vocab WHERE term IN (SELECT value FROM json_each(?1))
			UNION ALL SELECT '', count(*) FROM servers WHERE EXISTS (SELECT 1 FROM json_each(?1) WHERE value = '')`,
			[]any{string(list)}
	})
}

// narrow is the dialect's SearchNarrow: the condition keeping the names that contain term
// (ASCII letters case-insensitively, as LIKE compares), whose indexed half asks the index
// only for the rarest part of term by the counts. Any part of term does: the index folds
// case at least as widely as LIKE, so every name LIKE keeps holds each part's trigrams.
// The index's vocabulary holds its trigrams folded; trigrams with other than ASCII
// characters are not looked up (how FTS5 folds them is its own) and count as held by every
// name, so a part of them is chosen only when the term has no other.
func narrow(ctx context.Context, c *sqlstore.TrigramCounts, db *sql.DB, term string) (sqlstore.SearchCond, error) {
	if utf8.RuneCountInString(term) < 3 {
		cond, args := searchFilter(term)
		return sqlstore.SearchCond{Cond: cond, Args: args}, nil
	}
	run := foldASCII(term)
	ts := sqlstore.Trigrams(run)
	want := []string{""}
	for _, t := range ts {
		if isASCII(t) {
			want = append(want, t)
		}
	}
	counts, err := c.Counts(ctx, db, want)
	if err != nil {
		return sqlstore.SearchCond{}, err
	}
	for _, t := range ts {
		if !isASCII(t) {
			counts[t] = counts[""]
		}
	}
	return matchCond(sqlstore.CheapestPart([]string{run}, counts), term), nil
}

// searchFilter is the condition asking the index for every trigram of term (LIKE alone
// when term has none).
func searchFilter(term string) (string, []any) {
	if utf8.RuneCountInString(term) < 3 {
		return `name LIKE ? ESCAPE '\'`, []any{"%" + sqlstore.EscapeLike(term) + "%"} // no trigram to look up
	}
	c := matchCond(term, term)
	return c.Cond, c.Args
}

// matchCond asks the trigram index (case-folded) for the names holding part, a superset of
// those holding term; LIKE decides. LIKE's pattern is an expression, not a bare parameter:
// SQLite recompiles a statement at every new value of a bare LIKE pattern (it might allow
// the LIKE optimization), which costs more than the indexed search itself.
func matchCond(part, term string) sqlstore.SearchCond {
	return sqlstore.SearchCond{
		Cond: `rowid IN (SELECT rowid FROM servers_search WHERE servers_search MATCH ?) AND name LIKE (? || '') ESCAPE '\'`,
		Args: []any{`"` + strings.ReplaceAll(part, `"`, `""`) + `"`, "%" + sqlstore.EscapeLike(term) + "%"},
	}
}

// foldASCII lower-cases term's ASCII letters only (as LIKE and the index both do).
func foldASCII(term string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, term)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
