package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/registry"
)

// toolDiff is the side-by-side view of a version's tool definitions against the previous
// version's, with the lint findings placed on the tool they concern.
type toolDiff struct {
	OldDigest string
	NewDigest string
	// First is true when there is no previous manifest to compare with.
	First bool
	Tools []toolRow
	// Error explains a manifest that cannot be parsed.
	Error string
}

type toolRow struct {
	Name      string
	Kind      string // added, removed, changed, unchanged
	OldDigest string
	NewDigest string
	Lines     []sideLine
	Fields    []toolmanifest.FieldChange
	Findings  []findingRow
}

// sideLine is one row of the side-by-side diff; a side's Kind is same, del, add or empty.
type sideLine struct {
	Old, New         string
	OldKind, NewKind string
}

type findingRow struct {
	registry.ToolFinding
	// Context is the offending value, as it reads in the tool.
	Context string
	// Accepted is true when an exception in effect accepts the finding.
	Accepted bool
}

// maxDiffLines bounds each side of a tool's diff (a huge tool is summarized by its fields).
const maxDiffLines = 400

func buildToolDiff(oldRaw, newRaw []byte, findings []registry.ToolFinding) *toolDiff {
	d := &toolDiff{}
	if len(newRaw) == 0 {
		d.Error = "This version has no tool manifest."
		return d
	}
	newM, err := toolmanifest.Parse(newRaw)
	if err != nil {
		d.Error = "The tool manifest cannot be parsed: " + err.Error()
		return d
	}
	d.NewDigest = newM.Digest
	oldM := &toolmanifest.Manifest{}
	if len(oldRaw) > 0 {
		if m, err := toolmanifest.Parse(oldRaw); err == nil {
			oldM = m
			d.OldDigest = m.Digest
		}
	}
	d.First = len(oldRaw) == 0
	rep := toolmanifest.Diff(oldM, newM)
	changed := map[string]toolmanifest.ToolChange{}
	for _, c := range rep.Changed {
		changed[c.Name] = c
	}
	byTool := map[string][]findingRow{}
	for _, f := range findings {
		fr := findingRow{ToolFinding: f}
		if t := newM.Tool(f.Tool); t != nil {
			fr.Context = excerptAt(t.Raw, f.Pointer)
		}
		byTool[f.Tool] = append(byTool[f.Tool], fr)
	}
	for _, nt := range newM.Sorted() {
		row := toolRow{Name: nt.Name, NewDigest: nt.Digest, Findings: byTool[nt.Name]}
		ot := oldM.Tool(nt.Name)
		switch {
		case ot == nil:
			row.Kind = "added"
			row.Lines = sideBySide(nil, pretty(nt.Raw))
		case ot.Digest != nt.Digest:
			row.Kind, row.OldDigest, row.Fields = "changed", ot.Digest, changed[nt.Name].Fields
			row.Lines = sideBySide(pretty(ot.Raw), pretty(nt.Raw))
		default:
			row.Kind, row.OldDigest = "unchanged", ot.Digest
		}
		d.Tools = append(d.Tools, row)
	}
	for _, ot := range oldM.Sorted() {
		if newM.Tool(ot.Name) == nil {
			d.Tools = append(d.Tools, toolRow{Name: ot.Name, Kind: "removed", OldDigest: ot.Digest, Lines: sideBySide(pretty(ot.Raw), nil)})
		}
	}
	order := map[string]int{"changed": 0, "added": 1, "removed": 2, "unchanged": 3}
	sort.SliceStable(d.Tools, func(i, j int) bool { return order[d.Tools[i].Kind] < order[d.Tools[j].Kind] })
	return d
}

func pretty(raw []byte) []string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	lines := strings.Split(reveal(buf.String()), "\n")
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], "… ("+strconv.Itoa(len(lines)-maxDiffLines)+" more lines)")
	}
	return lines
}

// sideBySide aligns two texts line by line on their longest common subsequence.
func sideBySide(a, b []string) []sideLine {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []sideLine
	var dels, adds []string
	flush := func() {
		for k := 0; k < max(len(dels), len(adds)); k++ {
			l := sideLine{OldKind: "empty", NewKind: "empty"}
			if k < len(dels) {
				l.Old, l.OldKind = dels[k], "del"
			}
			if k < len(adds) {
				l.New, l.NewKind = adds[k], "add"
			}
			out = append(out, l)
		}
		dels, adds = dels[:0], adds[:0]
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			flush()
			out = append(out, sideLine{Old: a[i], New: b[j], OldKind: "same", NewKind: "same"})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			adds = append(adds, b[j])
			j++
		default:
			dels = append(dels, a[i])
			i++
		}
	}
	flush()
	return out
}

// excerptAt returns the value at an RFC 6901 pointer inside a tool, shortened.
func excerptAt(raw []byte, ptr string) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	if ptr != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch x := v.(type) {
			case map[string]any:
				v = x[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(x) {
					return ""
				}
				v = x[i]
			default:
				return ""
			}
		}
	}
	var s string
	if str, ok := v.(string); ok {
		s = strconv.QuoteToASCII(str) // shows invisible and look-alike characters as escapes
	} else {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	return cutWords(s, 400)
}

// reveal makes characters a reader cannot see visible in the diff: format characters
// (zero-width, bidi controls), Unicode tags, other controls and private-use characters
// become ⟨U+XXXX⟩, so that hidden instructions in a tool description show.
func reveal(s string) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hidden(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) || unicode.Is(unicode.Co, r) ||
		(r >= 0xE0000 && r <= 0xE007F) || r == utf8.RuneError || unicode.Is(unicode.Variation_Selector, r)
}
