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
	// How is "confusable" (same TR39 skeleton) or "edit-distance".
	How string `json:"how"`
	// Distance is the edit distance between the skeletons (0 for confusables).
	Distance int `json:"distance"`
}

func (l LookAlike) String() string {
	if l.How == "confusable" {
		return fmt.Sprintf("%q looks identical (confusable characters)", l.Existing)
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

// FindLookAlikes returns the existing namespaces that candidate resembles: the same
// confusable skeleton (e.g. Cyrillic "асme" for "acme", "rn" for "m", any change of case,
// a capital I for an l), or, when both share
// every label but the last, a last label within a small edit distance ("acme" / "acne",
// "weather-co" / "waether-co"). An existing namespace equal to candidate is never a
// look-alike. The result is sorted by existing namespace.
func FindLookAlikes(candidate string, existing []string) []LookAlike {
	cs, cg := Skeleton(candidate), glyphSkeleton(candidate)
	cPrefix, cLast := splitLastLabel(cs)
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
		prefix, last := splitLastLabel(s)
		if prefix != cPrefix {
			continue
		}
		limit := min(maxLabelDistance(cLast), maxLabelDistance(last))
		if limit == 0 {
			continue
		}
		if d := editDistance(cLast, last); d <= limit {
			out = append(out, LookAlike{Existing: ns, How: "edit-distance", Distance: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Existing < out[j].Existing })
	return out
}

func splitLastLabel(ns string) (prefix, last string) {
	i := strings.LastIndexByte(ns, '.')
	if i < 0 {
		return "", ns
	}
	return ns[:i], ns[i+1:]
}
