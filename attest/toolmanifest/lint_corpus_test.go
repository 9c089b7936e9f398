package toolmanifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type corpusEntry struct {
	Label  string            `json:"label"`
	Expect []string          `json:"expect"`
	Note   string            `json:"note"`
	Target string            `json:"target"`
	Tools  []json.RawMessage `json:"tools"`
}

// TestLintCorpus runs the linter over a labeled corpus (testdata/lint_corpus.json, written
// for this project) and reports precision and recall at the default --fail-on threshold
// (a tool counts as flagged when it has a finding of severity high or above). The rule
// each entry expects is informational: with severities from combined families a poisoned
// tool is often reported under another family of the same attack.
func TestLintCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "lint_corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Entries []corpusEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn, tn int
	for i, e := range corpus.Entries {
		m, err := FromTools(e.Tools)
		if err != nil {
			t.Fatalf("entry %d (%s): %v", i, e.Note, err)
		}
		var hits []Finding
		for _, f := range Lint(m, LintOptions{}) {
			if f.Tool == e.Target && f.Severity >= High {
				hits = append(hits, f)
			}
		}
		flagged := len(hits) > 0
		expectedHit := slices.ContainsFunc(hits, func(f Finding) bool { return slices.Contains(e.Expect, f.Rule) })
		switch {
		case e.Label == "malicious" && flagged:
			tp++
			if !expectedHit {
				t.Logf("flagged under another family %q: expected %v, got %v", e.Note, e.Expect, hits)
			}
		case e.Label == "malicious":
			fn++
			t.Logf("MISS %q: expected %v, nothing at high", e.Note, e.Expect)
		case flagged:
			fp++
			t.Logf("FALSE POSITIVE %q: %v", e.Note, hits)
		default:
			tn++
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("lint corpus: %d entries, tp=%d fp=%d fn=%d tn=%d precision=%.3f recall=%.3f", len(corpus.Entries), tp, fp, fn, tn, precision, recall)
	if precision < 0.9 || recall < 0.9 {
		t.Errorf("precision %.3f / recall %.3f below the 0.9 target", precision, recall)
	}
}
