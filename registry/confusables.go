package registry

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// confusables maps characters that render like a Latin letter or digit to the prototype they
// are confused with, in the spirit of Unicode TR39's confusables.txt. It is a small table of
// our own covering the look-alikes seen in practice in names (Cyrillic, Greek, Armenian and
// Cherokee homoglyphs, dotless/small-capital letters, digits that pass for letters);
// compatibility forms (fullwidth, mathematical alphanumerics, ligatures) are handled by NFKD
// before the table applies.
var confusables = map[rune]string{
	// Digits and symbols that pass for letters.
	'0': "o", '1': "l", '|': "l", 'I': "l", '5': "s", '$': "s", '@': "a",
	// Cyrillic.
	'а': "a", 'А': "a", 'в': "b", 'В': "b", 'с': "c", 'С': "c", 'ԁ': "d", 'е': "e", 'Е': "e",
	'ё': "e", 'һ': "h", 'Н': "h", 'і': "i", 'І': "l", 'ӏ': "l", 'ј': "j", 'Ј': "j", 'к': "k",
	'К': "k", 'м': "m", 'М': "m", 'о': "o", 'О': "o", 'р': "p", 'Р': "p", 'ԛ': "q", 'г': "r",
	'ѕ': "s", 'Ѕ': "s", 'т': "t", 'Т': "t", 'υ': "u", 'ц': "u", 'ѵ': "v", 'ԝ': "w", 'х': "x",
	'Х': "x", 'у': "y", 'У': "y", 'ү': "y", 'ԅ': "z",
	// Greek.
	'α': "a", 'Α': "a", 'β': "b", 'Β': "b", 'ϲ': "c", 'ε': "e", 'Ε': "e", 'Η': "h", 'ι': "i",
	'Ι': "l", 'κ': "k", 'Κ': "k", 'Μ': "m", 'ν': "v", 'Ν': "n", 'ο': "o", 'Ο': "o", 'σ': "o",
	'ς': "c", 'ρ': "p", 'Ρ': "p", 'τ': "t", 'Τ': "t", 'χ': "x", 'Χ': "x", 'γ': "y", 'Υ': "y", 'Ζ': "z",
	// Armenian and Cherokee.
	'օ': "o", 'ս': "u", 'հ': "h", 'ո': "n", 'Ꭺ': "a", 'Ꮯ': "c", 'Ꭼ': "e", 'Ꮋ': "h", 'Ꮃ': "w",
	// Latin variants.
	'ı': "i", 'ȷ': "j", 'ɡ': "g", 'ɑ': "a", 'ʟ': "l", 'ɴ': "n", 'ʀ': "r", 'ꜱ': "s", 'ᴅ': "d",
	'ᴇ': "e", 'ᴋ': "k", 'ᴍ': "m", 'ᴏ': "o", 'ᴘ': "p", 'ᴛ': "t", 'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w",
	'ʏ': "y", 'ᴢ': "z", 'ß': "ss", 'ø': "o", 'đ': "d", 'ħ': "h", 'ł': "l",
	// Dashes and dots.
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '−': "-", '_': "-", '·': ".", '․': ".",
}

// multiConfusables are letter sequences that render like a single letter in most fonts.
var multiConfusables = strings.NewReplacer("rn", "m", "vv", "w", "cl", "d", "nn", "m")

// Skeleton returns the confusable skeleton of s (Unicode TR39 §4, with our table), for a
// comparison that ignores case: two strings with the same skeleton look alike to a person.
// Invisible and format characters are dropped, compatibility forms folded (NFKD), combining
// marks removed, case folded, confusable characters mapped to their prototype, and
// look-alike letter sequences ("rn" → "m") collapsed.
//
// Case is folded before the table applies (TR39's order for case-insensitive identifiers),
// so "IO.GITHUB.ACME" has the skeleton of "io.github.acme"; the table's entries for capital
// letters apply only where the small letter has no entry of its own (Cyrillic "Н" → "h").
// That a capital I also passes for a small l is glyphSkeleton's business.
func Skeleton(s string) string { return skeleton(s, true) }

// glyphSkeleton is the skeleton of s as it is displayed, before case is folded: a capital
// "I" (and its Cyrillic and Greek twins) maps to "l", which it renders like in most fonts, so
// "io.gitIab.acme" resembles "io.gitlab.acme".
func glyphSkeleton(s string) string { return skeleton(s, false) }

func skeleton(s string, foldFirst bool) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Cc, r):
			continue
		}
		if foldFirst {
			if l := unicode.ToLower(r); l != r {
				if p, ok := confusables[l]; ok || r < unicode.MaxASCII {
					if !ok {
						p = string(l)
					}
					b.WriteString(p)
					continue
				}
			}
		}
		if p, ok := confusables[r]; ok {
			b.WriteString(p)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	out := b.String()
	// Mapping can create new sequences (e.g. "r" + "п"); apply until stable.
	for i := 0; i < 3; i++ {
		next := multiConfusables.Replace(out)
		if next == out {
			break
		}
		out = next
	}
	return out
}

// editDistance returns the optimal-string-alignment (Damerau–Levenshtein restricted) edit
// distance between a and b, counted in runes: insertions, deletions, substitutions and
// transpositions of adjacent runes each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[n][m]
}
