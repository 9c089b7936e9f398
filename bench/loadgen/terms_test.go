package loadgen

import (
	"strings"
	"testing"
)

// Terms never repeat within a run, and each matches exactly one server's name (by
// substring, the search's definition), checked against every name of a small data set.
func TestUniqueTermsNeverRepeatAndMatchOneServer(t *testing.T) {
	const servers = 1200 // names up to org01199; enough rounds to pass several windows
	names := make([]string, servers)
	for i := range names {
		names[i] = Name(i)
	}
	u := NewUniqueTerms(servers, 0, 1)
	seen := map[string]bool{}
	for k := 0; k < 20*servers; k++ {
		term := u.Next()
		if seen[strings.ToLower(term)] { // the cache folds ASCII case: so does this check
			t.Fatalf("term %d %q repeated", k, term)
		}
		seen[strings.ToLower(term)] = true
		if len(term) < 3 {
			t.Fatalf("term %q has no trigram", term)
		}
		if k%97 != 0 { // brute force on a sample
			continue
		}
		n := 0
		for _, name := range names {
			if strings.Contains(strings.ToLower(name), strings.ToLower(term)) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("term %q matches %d names, want 1", term, n)
		}
	}
	if u.Issued() != 20*servers {
		t.Fatalf("Issued = %d", u.Issued())
	}
	// Another run's range (starting where this one stopped) does not meet this one's.
	v := NewUniqueTerms(servers, 20*servers, 1)
	for k := 0; k < 5*servers; k++ {
		if term := v.Next(); seen[strings.ToLower(term)] {
			t.Fatalf("the next run's term %d %q repeats one of the first run", k, term)
		}
	}
}

// Names of data sets past 99,999 servers have six digits: a term of org12345/ must not match
// org123456/.
func TestWindowIsSelectiveAtSixDigits(t *testing.T) {
	a, b := Name(12345), Name(123456)
	for v := uint64(0); v < uint64(Windows(a)); v++ {
		if w := Window(a, v); strings.Contains(b, w) || !strings.Contains(w, "org12345/") {
			t.Fatalf("window %d of %s is %q", v, a, w)
		}
	}
}
