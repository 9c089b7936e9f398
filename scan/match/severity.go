package match

import (
	"encoding/json"
	"strings"

	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/vetted-dev/vetted/scan/osv"
)

// Level is a qualitative severity.
type Level string

// Levels, in increasing order. Unknown is used when a record carries no severity at all; policy
// treats it as at or above every threshold (fail closed).
const (
	LevelNone     Level = "none"
	LevelLow      Level = "low"
	LevelMedium   Level = "medium"
	LevelHigh     Level = "high"
	LevelCritical Level = "critical"
	LevelUnknown  Level = "unknown"
)

// Rank orders levels; Unknown ranks above Critical so that it trips every threshold.
func (l Level) Rank() int {
	switch l {
	case LevelNone:
		return 0
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	case LevelCritical:
		return 4
	default:
		return 5
	}
}

// ParseLevel parses a threshold name (low, medium, high, critical).
func ParseLevel(s string) (Level, bool) {
	switch l := Level(strings.ToLower(s)); l {
	case LevelLow, LevelMedium, LevelHigh, LevelCritical:
		return l, true
	}
	return "", false
}

// Severity is a finding's severity.
type Severity struct {
	Level  Level   `json:"level"`
	Score  float64 `json:"score,omitempty"`  // CVSS base score, when a vector was given
	Vector string  `json:"vector,omitempty"` // the CVSS vector the score comes from
	// Source is "cvss_v4", "cvss_v3", "cvss_v2", "database_specific" or "" (unknown).
	Source string `json:"source,omitempty"`
}

func levelFromScore(s float64) Level {
	switch {
	case s == 0:
		return LevelNone
	case s < 4:
		return LevelLow
	case s < 7:
		return LevelMedium
	case s < 9:
		return LevelHigh
	default:
		return LevelCritical
	}
}

// cvssScore computes the base score of one severity entry; ok is false when it cannot.
func cvssScore(s osv.Severity) (score float64, source string, ok bool) {
	v := strings.TrimSpace(s.Score)
	switch s.Type {
	case "CVSS_V4":
		c, err := cvss40.ParseVector(v)
		if err != nil {
			return 0, "", false
		}
		return c.Score(), "cvss_v4", true
	case "CVSS_V3":
		if strings.HasPrefix(v, "CVSS:3.0/") {
			c, err := cvss30.ParseVector(v)
			if err != nil {
				return 0, "", false
			}
			return c.BaseScore(), "cvss_v3", true
		}
		c, err := cvss31.ParseVector(v)
		if err != nil {
			return 0, "", false
		}
		return c.BaseScore(), "cvss_v3", true
	case "CVSS_V2":
		c, err := cvss20.ParseVector(v)
		if err != nil {
			return 0, "", false
		}
		return c.BaseScore(), "cvss_v2", true
	}
	return 0, "", false
}

// severityOf picks the highest computed CVSS v3/v4 base score among the entries, then CVSS v2,
// then the database's own label.
func severityOf(entries []osv.Severity, dbSpecific ...json.RawMessage) Severity {
	best, bestV2 := Severity{}, Severity{}
	for _, e := range entries {
		score, src, ok := cvssScore(e)
		if !ok {
			continue
		}
		cand := Severity{Level: levelFromScore(score), Score: score, Vector: strings.TrimSpace(e.Score), Source: src}
		if src == "cvss_v2" {
			if bestV2.Source == "" || score > bestV2.Score {
				bestV2 = cand
			}
			continue
		}
		if best.Source == "" || score > best.Score {
			best = cand
		}
	}
	if best.Source != "" {
		return best
	}
	if bestV2.Source != "" {
		return bestV2
	}
	for _, raw := range dbSpecific {
		if l := dbLabel(raw); l != "" {
			return Severity{Level: l, Source: "database_specific"}
		}
	}
	return Severity{Level: LevelUnknown}
}

func dbLabel(raw json.RawMessage) Level {
	if len(raw) == 0 {
		return ""
	}
	var v struct {
		Severity any `json:"severity"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	s, _ := v.Severity.(string)
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "LOW":
		return LevelLow
	case "MODERATE", "MEDIUM":
		return LevelMedium
	case "HIGH", "IMPORTANT":
		return LevelHigh
	case "CRITICAL":
		return LevelCritical
	}
	return ""
}

// maxSeverity returns the more severe of a and b (known levels beat unknown; scores break ties).
func maxSeverity(a, b Severity) Severity {
	if a.Level == "" {
		return b
	}
	if b.Level == "" {
		return a
	}
	if a.Level == LevelUnknown {
		return b
	}
	if b.Level == LevelUnknown {
		return a
	}
	if b.Level.Rank() > a.Level.Rank() || b.Level == a.Level && b.Score > a.Score {
		return b
	}
	return a
}
