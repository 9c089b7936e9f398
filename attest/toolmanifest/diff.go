package toolmanifest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gowebpki/jcs"
)

// Classifications of a tool change.
const (
	// Addition is a tool present only in the new manifest.
	Addition = "addition"
	// Removal is a tool present only in the old manifest.
	Removal = "removal"
	// DefinitionChange is an existing tool whose definition (description, schemas,
	// annotations or any other member) changed: it must be reviewed.
	DefinitionChange = "definition change"
)

// DiffReport is the difference between two manifests; its JSON form is the output of
// `vetted tools diff --json`.
type DiffReport struct {
	OldManifestDigest string       `json:"oldManifestDigest"`
	NewManifestDigest string       `json:"newManifestDigest"`
	Identical         bool         `json:"identical"`
	Added             []ToolChange `json:"added"`
	Removed           []ToolChange `json:"removed"`
	Changed           []ToolChange `json:"changed"`
}

// ToolChange is one added, removed or changed tool.
type ToolChange struct {
	Name           string        `json:"name"`
	Classification string        `json:"classification"`
	OldDigest      string        `json:"oldDigest,omitempty"`
	NewDigest      string        `json:"newDigest,omitempty"`
	Fields         []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one difference inside a changed tool.
type FieldChange struct {
	// Pointer is the RFC 6901 pointer of the changed value inside the tool.
	Pointer string `json:"pointer"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	// Old and New are the canonical (JCS) JSON of the values.
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"`
	// TextDiff is a word-level diff for changed strings: [-removed-] {+added+}.
	TextDiff string `json:"textDiff,omitempty"`
}

// Diff compares two manifests by tool name.
func Diff(oldM, newM *Manifest) *DiffReport {
	r := &DiffReport{
		OldManifestDigest: oldM.Digest, NewManifestDigest: newM.Digest,
		Added: []ToolChange{}, Removed: []ToolChange{}, Changed: []ToolChange{},
	}
	for _, nt := range newM.Sorted() {
		ot := oldM.Tool(nt.Name)
		switch {
		case ot == nil:
			r.Added = append(r.Added, ToolChange{Name: nt.Name, Classification: Addition, NewDigest: nt.Digest})
		case ot.Digest != nt.Digest:
			var fields []FieldChange
			diffValues(ot, nt, ot.Value, nt.Value, "", &fields)
			r.Changed = append(r.Changed, ToolChange{
				Name: nt.Name, Classification: DefinitionChange,
				OldDigest: ot.Digest, NewDigest: nt.Digest, Fields: fields,
			})
		}
	}
	for _, ot := range oldM.Sorted() {
		if newM.Tool(ot.Name) == nil {
			r.Removed = append(r.Removed, ToolChange{Name: ot.Name, Classification: Removal, OldDigest: ot.Digest})
		}
	}
	r.Identical = len(r.Added)+len(r.Removed)+len(r.Changed) == 0
	return r
}

// rawOf returns the bytes of v, a value inside t.
func (t *Tool) rawOf(v *Value) []byte {
	off := t.Value.Start
	return t.Raw[v.Start-off : v.End-off]
}

func (t *Tool) canonicalOf(v *Value) json.RawMessage {
	c, err := jcs.Transform(t.rawOf(v))
	if err != nil {
		return json.RawMessage(t.rawOf(v))
	}
	return c
}

func diffValues(ot, nt *Tool, a, b *Value, ptr string, out *[]FieldChange) {
	ca, cb := ot.canonicalOf(a), nt.canonicalOf(b)
	if string(ca) == string(cb) {
		return
	}
	switch {
	case a.Kind == Object && b.Kind == Object:
		keys := map[string]bool{}
		for _, m := range a.Members {
			keys[m.Key] = true
		}
		for _, m := range b.Members {
			keys[m.Key] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := ptr + "/" + pointerEscape(k)
			av, bv := a.Get(k), b.Get(k)
			switch {
			case av == nil:
				*out = append(*out, FieldChange{Pointer: p, Change: "added", New: nt.canonicalOf(bv)})
			case bv == nil:
				*out = append(*out, FieldChange{Pointer: p, Change: "removed", Old: ot.canonicalOf(av)})
			default:
				diffValues(ot, nt, av, bv, p, out)
			}
		}
	case a.Kind == Array && b.Kind == Array && len(a.Elems) == len(b.Elems):
		for i := range a.Elems {
			diffValues(ot, nt, a.Elems[i], b.Elems[i], fmt.Sprintf("%s/%d", ptr, i), out)
		}
	default:
		fc := FieldChange{Pointer: ptr, Change: "changed", Old: ca, New: cb}
		if a.Kind == String && b.Kind == String {
			fc.TextDiff = WordDiff(a.Str, b.Str)
		}
		*out = append(*out, fc)
	}
}

// WordDiff returns a word-level diff of two texts: unchanged words as they are, removed
// words as [-…-] and added words as {+…+}. Whitespace runs count as words, so that a change
// of spacing or an appended invisible character shows.
func WordDiff(a, b string) string {
	x, y := splitWords(a), splitWords(b)
	if len(x)*len(y) > 4_000_000 {
		return "[-" + a + "-]{+" + b + "+}"
	}
	// LCS table.
	n, m := len(x), len(y)
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var sb strings.Builder
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			sb.WriteString("[-" + del.String() + "-]")
			del.Reset()
		}
		if ins.Len() > 0 {
			sb.WriteString("{+" + ins.String() + "+}")
			ins.Reset()
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			flush()
			sb.WriteString(x[i])
			i++
			j++
		case j < m && (i == n || l[i][j+1] >= l[i+1][j]):
			ins.WriteString(y[j])
			j++
		default:
			del.WriteString(x[i])
			i++
		}
	}
	flush()
	return sb.String()
}

func splitWords(s string) []string {
	var out []string
	start := 0
	inSpace := false
	for i, r := range s {
		sp := r == ' ' || r == '\n' || r == '\t' || r == '\r'
		if i > 0 && sp != inSpace {
			out = append(out, s[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// WriteText writes the report for people.
func (r *DiffReport) WriteText(w io.Writer) {
	if r.Identical {
		fmt.Fprintf(w, "identical: manifest %s\n", r.NewManifestDigest)
		return
	}
	fmt.Fprintf(w, "manifest %s -> %s\n", r.OldManifestDigest, r.NewManifestDigest)
	for _, c := range r.Added {
		fmt.Fprintf(w, "added   %s (%s) %s\n", c.Name, c.Classification, c.NewDigest)
	}
	for _, c := range r.Removed {
		fmt.Fprintf(w, "removed %s (%s) %s\n", c.Name, c.Classification, c.OldDigest)
	}
	for _, c := range r.Changed {
		fmt.Fprintf(w, "changed %s (%s) %s -> %s\n", c.Name, c.Classification, c.OldDigest, c.NewDigest)
		for _, f := range c.Fields {
			switch f.Change {
			case "added":
				fmt.Fprintf(w, "  %s added: %s\n", f.Pointer, clip(string(f.New)))
			case "removed":
				fmt.Fprintf(w, "  %s removed: %s\n", f.Pointer, clip(string(f.Old)))
			default:
				if f.TextDiff != "" {
					fmt.Fprintf(w, "  %s changed: %s\n", f.Pointer, quoteInvisible(f.TextDiff))
				} else {
					fmt.Fprintf(w, "  %s changed: %s -> %s\n", f.Pointer, clip(string(f.Old)), clip(string(f.New)))
				}
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// quoteInvisible makes control, format and other invisible characters visible as \u{…}.
func quoteInvisible(s string) string {
	var sb strings.Builder
	for _, r := range clip(s) {
		if isInvisible(r) || (r < 0x20 && r != '\n' && r != '\t') {
			fmt.Fprintf(&sb, `\u{%04X}`, r)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
