package registry

import (
	"fmt"
	"sort"
	"strings"
)

// Namespace returns the namespace part of a server name ("io.github.acme/weather" →
// "io.github.acme").
func Namespace(serverName string) string {
	ns, _, _ := strings.Cut(serverName, "/")
	return ns
}

// LookAlike is an existing namespace that a new one resembles.
type LookAlike struct {
	// Existing is the namespace already in the registry.
	Existing string `json:"existing"`
	// How is "confusable" (same TR39 skeleton), "edit-distance" (one label a few edits
	// away), "combosquat" (the existing name with a word such as -official or -mcp added) or
	// "tld-swap" (the same name under another top-level domain).
	How string `json:"how"`
	// Distance is the edit distance between the differing labels' skeletons (0 for
	// confusables, combosquats and TLD swaps).
	Distance int `json:"distance"`
}

func (l LookAlike) String() string {
	switch l.How {
	case "confusable":
		return fmt.Sprintf("%q looks identical (confusable characters)", l.Existing)
	case "combosquat":
		return fmt.Sprintf("%q with a word added", l.Existing)
	case "tld-swap":
		return fmt.Sprintf("%q under another top-level domain", l.Existing)
	}
	return fmt.Sprintf("%q is %d edit(s) away", l.Existing, l.Distance)
}

// maxLabelDistance is how many edits of a namespace's distinguishing label still count as a
// look-alike: none for labels shorter than 4 runes (too many honest near-collisions), one
// up to 8, two beyond.
func maxLabelDistance(label string) int {
	switch n := len([]rune(label)); {
	case n < 4:
		return 0
	case n <= 8:
		return 1
	default:
		return 2
	}
}

// FindLookAlikes returns the existing namespaces that candidate resembles:
//   - the same confusable skeleton (e.g. Cyrillic "асme" for "acme", "rn" for "m", any
//     change of case, a capital I for an l);
//   - the same number of labels, all equal but one, and that one within a small edit
//     distance ("acme" / "acne", "weather-co" / "waether-co", "io.githuh.acme" /
//     "io.github.acme");
//   - the existing last label with a word that claims affiliation added ("acme-official",
//     "acmehq", "official-acme", "acme-mcp");
//   - the same name under another top-level domain ("net.stripe" / "com.stripe").
//
// An existing namespace equal to candidate is never a look-alike. Labels shorter than four
// runes only count as confusables. The result is sorted by existing namespace.
func FindLookAlikes(candidate string, existing []string) []LookAlike {
	cs, cg := Skeleton(candidate), glyphSkeleton(candidate)
	cLabels := strings.Split(cs, ".")
	var out []LookAlike
	for _, ns := range existing {
		if ns == candidate {
			continue
		}
		s, g := Skeleton(ns), glyphSkeleton(ns)
		// The same skeleton case-folded, or as displayed (a capital I passing for an l).
		if s == cs || s == cg || g == cs || g == cg {
			out = append(out, LookAlike{Existing: ns, How: "confusable"})
			continue
		}
		if l, ok := labelLookAlike(cLabels, strings.Split(s, ".")); ok {
			l.Existing = ns
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Existing < out[j].Existing })
	return out
}

// labelLookAlike compares two skeletons label by label.
func labelLookAlike(c, e []string) (LookAlike, bool) {
	if len(c) != len(e) {
		return LookAlike{}, false
	}
	diff := -1
	for i := range c {
		if c[i] != e[i] {
			if diff >= 0 {
				return LookAlike{}, false
			}
			diff = i
		}
	}
	if diff < 0 {
		return LookAlike{}, false
	}
	cl, el := c[diff], e[diff]
	if limit := min(maxLabelDistance(cl), maxLabelDistance(el)); limit > 0 {
		if d := editDistance(cl, el); d <= limit {
			return LookAlike{How: "edit-distance", Distance: d}, true
		}
	}
	last := len(c) - 1
	if diff == last && len([]rune(el)) >= 4 && combosquat(cl, el) {
		return LookAlike{How: "combosquat"}, true
	}
	if diff == 0 && len(c) >= 2 && topLevelDomains[cl] && topLevelDomains[el] && len([]rune(c[last])) >= 4 {
		return LookAlike{How: "tld-swap"}, true
	}
	return LookAlike{}, false
}

// affiliationWords are what combosquatting adds to a name to look like its owner's.
var affiliationWords = map[string]bool{
	"official": true, "officials": true, "real": true, "the": true, "team": true, "hq": true, "inc": true,
	"corp": true, "co": true, "labs": true, "lab": true, "dev": true, "devs": true, "mcp": true, "ai": true,
	"app": true, "apps": true, "io": true, "org": true, "security": true, "secure": true, "tools": true,
	"tool": true, "server": true, "servers": true, "support": true, "admin": true, "verified": true,
	"get": true, "my": true, "go": true, "use": true, "api": true, "sdk": true, "cli": true, "bot": true,
	"oss": true, "opensource": true, "community": true, "global": true, "cloud": true, "plugins": true,
	"plugin": true, "integrations": true, "connect": true, "connector": true, "help": true, "login": true,
	"auth": true, "account": true, "accounts": true, "pay": true, "store": true, "shop": true, "mirror": true,
	"registry": true, "release": true, "releases": true, "hub": true, "online": true, "services": true,
}

// combosquat reports whether candidate is existing with affiliation words added before or
// after it, with or without separators ("acme-official", "acmehq", "official_acme").
func combosquat(candidate, existing string) bool {
	var rest string
	switch {
	case strings.HasPrefix(candidate, existing):
		rest = candidate[len(existing):]
	case strings.HasSuffix(candidate, existing):
		rest = candidate[:len(candidate)-len(existing)]
	default:
		return false
	}
	words := strings.FieldsFunc(rest, func(r rune) bool { return r == '-' || r == '_' })
	if len(words) == 0 || len(words) > 2 {
		return false
	}
	for _, w := range words {
		if !affiliationWords[strings.Trim(w, "0123456789")] && strings.Trim(w, "0123456789") != "" {
			return false
		}
	}
	return true
}

// topLevelDomains are the first labels of reverse-DNS namespaces swapped in TLD squatting.
var topLevelDomains = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "dev": true, "ai": true, "co": true, "app": true,
	"cloud": true, "info": true, "biz": true, "xyz": true, "tech": true, "sh": true, "me": true, "us": true,
	"uk": true, "de": true, "fr": true, "eu": true, "cn": true, "ru": true, "jp": true, "in": true, "so": true,
	"gg": true, "tv": true, "cc": true, "site": true, "online": true, "pro": true,
}
