package toolmanifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// adversarialEntry is one labelled tool set of testdata/adversarial_corpus.json: poisoned
// definitions of every family (docs/tool-lint.md) and hard benign ones, each with the
// reasoning behind its label.
type adversarialEntry struct {
	Label    string            `json:"label"`
	Family   []string          `json:"family"`
	Reason   string            `json:"reason"`
	Target   string            `json:"target"`
	Tools    []json.RawMessage `json:"tools"`
	Previous []json.RawMessage `json:"previous"`
}

// TestLintAdversarialCorpus measures the lint on the project's own adversarial corpus.
// Targets (issue 14): recall ≥ 0.95 at --fail-on medium, precision ≥ 0.95, and every
// poisoned definition at high or above. A rug pull entry must also show as a changed tool
// in the diff against its previous version.
func TestLintAdversarialCorpus(t *testing.T) {
	sc := scoreCorpus(t, "adversarial_corpus.json")
	if sc.poisoned < 60 || sc.benign < 40 || sc.outside < 5 {
		t.Errorf("corpus too small: %d poisoned (want ≥ 60), %d benign (≥ 40), %d outside description (≥ 5)", sc.poisoned, sc.benign, sc.outside)
	}
	for _, fam := range []string{"directive", "concealment", "target", "channel", "shadowing", "trigger", "command-injection", "rug-pull", "obfuscation", "outside-description"} {
		if sc.families[fam] == 0 {
			t.Errorf("no poisoned entry of family %s", fam)
		}
	}
}

// TestLintProbeCorpus measures the lint on testdata/probe_corpus.json, a generalization
// probe written after the adversarial corpus's rules were frozen (its "about" member says
// what it measured before the rules were generalized). Same targets.
func TestLintProbeCorpus(t *testing.T) {
	sc := scoreCorpus(t, "probe_corpus.json")
	if sc.poisoned < 30 || sc.benign < 20 {
		t.Errorf("probe too small: %d poisoned, %d benign", sc.poisoned, sc.benign)
	}
}

type corpusScore struct {
	poisoned, benign, outside int
	families                  map[string]int
}

// scoreCorpus lints every entry of a labelled corpus in testdata and fails the test when
// recall or precision at --fail-on medium is below 0.95, or a poisoned entry is below high.
func scoreCorpus(t *testing.T, file string) corpusScore {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Entries []adversarialEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	sc := corpusScore{families: map[string]int{}}
	var tp, fp, fn, tn, belowHigh int
	for i, e := range corpus.Entries {
		m, err := FromTools(e.Tools)
		if err != nil {
			t.Fatalf("entry %d (%s): %v", i, e.Reason, err)
		}
		worst, flagged := Info, false
		for _, f := range Lint(m, LintOptions{}) {
			if f.Tool == e.Target && f.Severity >= Medium {
				flagged = true
				worst = max(worst, f.Severity)
			}
		}
		switch e.Label {
		case "poisoned":
			sc.poisoned++
			for _, fam := range e.Family {
				sc.families[fam]++
				if fam == "outside-description" {
					sc.outside++
				}
			}
			if flagged {
				tp++
			} else {
				fn++
				t.Logf("MISS %d %q", i, e.Reason)
			}
			if worst < High {
				belowHigh++
				t.Errorf("poisoned entry %d (%s) is only %v", i, e.Reason, worst)
			}
			if e.Previous != nil {
				prev, err := FromTools(e.Previous)
				if err != nil {
					t.Fatal(err)
				}
				d := Diff(prev, m)
				if len(d.Changed) != 1 || d.Changed[0].Name != e.Target {
					t.Errorf("rug pull %d: diff does not show %s changed: %+v", i, e.Target, d)
				}
			}
		case "benign":
			sc.benign++
			if flagged {
				fp++
				t.Logf("FALSE POSITIVE %d %q: %+v", i, e.Reason, Lint(m, LintOptions{}))
			} else {
				tn++
			}
		default:
			t.Fatalf("entry %d: label %q", i, e.Label)
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("%s: %d poisoned, %d benign; tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f (at --fail-on medium); below high: %d",
		file, sc.poisoned, sc.benign, tp, fp, fn, tn, precision, recall, belowHigh)
	if recall < 0.95 || precision < 0.95 {
		t.Errorf("%s: recall %.3f / precision %.3f below the 0.95 targets", file, recall, precision)
	}
	return sc
}
