package registry

import (
	"testing"
	"unicode"
)

// lookAlikeCorpus are existing namespaces for the property test: letters the table has
// many twins for, an "l" and "i" side by side, digits, a dash and the multi-letter forms.
var lookAlikeCorpus = []string{"io.github.acme", "io.gitlab.weather", "com.example.mail", "io.github.modern1", "dev.jfq.skyvz"}

func flaggedAs(t *testing.T, cand, existing string) {
	t.Helper()
	for _, l := range FindLookAlikes(cand, []string{existing}) {
		if l.Existing == existing && l.How == "confusable" {
			return
		}
	}
	t.Errorf("%q (skeleton %q, glyphs %q) is not flagged as a look-alike of %q (skeleton %q)",
		cand, Skeleton(cand), glyphSkeleton(cand), existing, Skeleton(existing))
}

// Every case variant of an existing namespace is flagged: all 2^n of them (issue 17 item
// 7: "IO.GITHUB.ACME", "io.gIthub.acme" and "IO.github.acme" passed as resembling nothing).
func TestLookAlikeEveryCaseVariant(t *testing.T) {
	n := 0
	for _, ns := range lookAlikeCorpus {
		var letters []int
		rs := []rune(ns)
		for i, r := range rs {
			if unicode.IsLetter(r) {
				letters = append(letters, i)
			}
		}
		if len(letters) > 16 {
			t.Fatalf("%s: too many letters for an exhaustive walk", ns)
		}
		for mask := 1; mask < 1<<len(letters); mask++ {
			v := append([]rune(nil), rs...)
			for bit, i := range letters {
				if mask&(1<<bit) != 0 {
					v[i] = unicode.ToUpper(v[i])
				}
			}
			flaggedAs(t, string(v), ns)
			n++
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("%d case variants, all flagged", n)
	for _, c := range []string{"IO.GITHUB.ACME", "io.gIthub.acme", "IO.github.acme"} {
		flaggedAs(t, c, "io.github.acme")
	}
}

// substitutes returns every string that replaces one character (or one letter sequence)
// of s by something the table says looks like it.
func substitutes(s string) []string {
	byProto := map[string][]string{}
	for r, p := range confusables {
		byProto[p] = append(byProto[p], string(r))
	}
	for _, pair := range [][2]string{{"rn", "m"}, {"nn", "m"}, {"vv", "w"}, {"cl", "d"}} {
		byProto[pair[1]] = append(byProto[pair[1]], pair[0])
	}
	var out []string
	rs := []rune(s)
	for i, r := range rs {
		var alts []string
		alts = append(alts, byProto[string(r)]...)
		if r >= 'a' && r <= 'z' {
			alts = append(alts, string(r-'a'+'ａ')) // fullwidth, folded by NFKD
		}
		if r == 'l' {
			alts = append(alts, "I") // a capital I renders like an l
		}
		for _, a := range alts {
			out = append(out, string(rs[:i])+a+string(rs[i+1:]))
		}
	}
	return out
}

// Every single confusable substitution of an existing namespace is flagged: each entry of
// the table (and fullwidth forms, "rn" for "m", a capital I for an l) in each place.
func TestLookAlikeEverySingleSubstitution(t *testing.T) {
	n := 0
	for _, ns := range lookAlikeCorpus {
		subs := substitutes(ns)
		if len(subs) < len([]rune(ns)) {
			t.Fatalf("%s: only %d substitutions generated", ns, len(subs))
		}
		for _, c := range subs {
			if c == ns {
				continue
			}
			flaggedAs(t, c, ns)
			n++
		}
	}
	t.Logf("%d substitutions, all flagged", n)
	// Still not everything resembles everything.
	for _, tc := range [][2]string{{"io.github.acme", "io.gitlab.acme"}, {"com.example.mail", "com.example.mali"}} {
		for _, l := range FindLookAlikes(tc[1], []string{tc[0]}) {
			if l.How == "confusable" {
				t.Errorf("%q flagged as a confusable of %q", tc[1], tc[0])
			}
		}
	}
}
