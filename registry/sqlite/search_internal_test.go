package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// The counts read from the index's vocabulary are the numbers of names holding each
// trigram, ASCII case-insensitively; and with them, a term of the read benchmark's shape
// asks the index for a part at least as rare as its server number, not for the trigrams
// every name shares.
func TestSearchAsksForTheRarePart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vetted.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const servers = 2000
	if _, err := s.CreateVersions(ctx, loadgen.DatasetRange(0, servers, 1)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, 0, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	want := map[string]int64{"": servers}
	for i := range servers {
		held := map[string]bool{}
		for _, tg := range sqlstore.Trigrams(strings.ToLower(loadgen.Name(i))) {
			held[tg] = true
		}
		for tg := range held {
			want[tg]++
		}
	}
	ask := []string{"", "org", "b.o", "zzz", "/we", "rg0", "015"}
	got, err := newTrigramCounts().Counts(ctx, db, ask)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ask[1:] {
		if got[tg] != want[tg] {
			t.Errorf("count of %q = %d, want %d (names holding it)", tg, got[tg], want[tg])
		}
	}
	if got[""] != servers {
		t.Errorf("count of names = %d, want %d", got[""], servers)
	}

	c := newTrigramCounts()
	for _, i := range []int{15, 1234, 1999} {
		name := loadgen.Name(i)
		term := strings.ToUpper(name[strings.Index(name, "github"):]) // "GITHUB.ORG01234/…"
		cond, err := narrow(ctx, c, db, term)
		if err != nil {
			t.Fatal(err)
		}
		part := strings.Trim(cond.Args[0].(string), `"`)
		digits := name[strings.Index(name, "org")+3 : strings.IndexByte(name, '/')]
		if !strings.Contains(strings.ToLower(term), part) {
			t.Errorf("%q: the index is asked for %q, not a part of the term", term, part)
		}
		if b, d := sqlstore.PartBound(part, want), sqlstore.PartBound(digits, want); b > d {
			t.Errorf("%q: the index is asked for %q, held by up to %d names, where the server number %s is held by %d", term, part, b, digits, d)
		}
		if cond.Args[1] != "%"+sqlstore.EscapeLike(term)+"%" {
			t.Errorf("%q: LIKE pattern %q, want the whole term", term, cond.Args[1])
		}
	}

	// A term with characters other than ASCII: its trigrams of them are not looked up and
	// count as held by every name, so the part asked for is the ASCII one.
	cond, err := narrow(ctx, c, db, "日本語org00015")
	if err != nil {
		t.Fatal(err)
	}
	if part := strings.Trim(cond.Args[0].(string), `"`); !isASCII(part) {
		t.Errorf("the index is asked for %q, want a part without the non-ASCII characters", part)
	}
}
