package registry

import (
	"strings"
	"testing"
)

func TestSkeleton(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"acme", "асme"},     // Cyrillic а, с
		{"acme", "ACME"},     // case
		{"modern", "modem"},  // rn → m
		{"google", "goog1e"}, // 1 → l
		{"microsoft", "micr0soft"},
		{"paypal", "pаypal"},   // Cyrillic а
		{"weather", "ｗｅａｔｈｅｒ"}, // fullwidth (NFKD)
		{"acme", "ac\u200bme"}, // zero-width space
		{"acme", "acmé"},       // combining mark dropped
		{"my-server", "my_server"},
		{"io.github.acme", "іо.github.acme"}, // Cyrillic і, о
	} {
		if Skeleton(tc.a) != Skeleton(tc.b) {
			t.Errorf("Skeleton(%q)=%q != Skeleton(%q)=%q", tc.a, Skeleton(tc.a), tc.b, Skeleton(tc.b))
		}
	}
	for _, tc := range []struct{ a, b string }{{"acme", "acne"}, {"weather", "leather"}, {"东京", "京都"}} {
		if Skeleton(tc.a) == Skeleton(tc.b) {
			t.Errorf("Skeleton(%q) == Skeleton(%q) = %q", tc.a, tc.b, Skeleton(tc.a))
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"acme", "acne", 1}, {"acme", "amce", 1}, {"acme", "acm", 1},
		{"kitten", "sitting", 3}, {"ab", "ba", 1}, {"東京", "東京都", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q,%q)=%d want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

func TestFindLookAlikes(t *testing.T) {
	existing := []string{"io.github.acme", "com.example", "io.github.weatherco", "io.github.ab", "io.github.microsoft"}
	for _, tc := range []struct {
		cand string
		want string // "" none; else "existing:how"
	}{
		{"io.github.acme", ""},                          // itself
		{"io.github.асme", "io.github.acme:confusable"}, // Cyrillic
		{"io.github.acne", "io.github.acme:edit-distance"},
		{"io.github.amce", "io.github.acme:edit-distance"},
		{"io.github.acme2", "io.github.acme:edit-distance"},
		{"io.github.weathreco", "io.github.weatherco:edit-distance"}, // transposition
		{"io.github.wea-therc0", "io.github.weatherco:edit-distance"},
		{"io.github.rnicrosoft", "io.github.microsoft:confusable"},
		{"io.github.ac", ""}, // short labels: only confusables count
		{"io.github.ac", ""},
		{"io.github.other", ""},
		{"io.gitlab.acme", ""}, // another prefix: a different owner space
		{"com.exarnple", "com.example:confusable"},
		{"io.github.zeta-weather", ""},
	} {
		got := FindLookAlikes(tc.cand, existing)
		var s []string
		for _, l := range got {
			s = append(s, l.Existing+":"+l.How)
		}
		if strings.Join(s, ",") != tc.want {
			t.Errorf("FindLookAlikes(%q) = %v, want %q", tc.cand, s, tc.want)
		}
	}
}
