package toolmanifest

import (
	"fmt"
	"strings"
	"testing"
)

// benchManifest has n tools of a realistic size (a paragraph of description, a schema with
// four documented properties, annotations).
func benchManifest(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"tools":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"tool_%d","title":"Tool %d","description":%q,"inputSchema":{"type":"object","properties":{`+
			`"path":{"type":"string","description":"Path of the file, relative to the workspace root."},`+
			`"limit":{"type":"integer","minimum":1,"maximum":1000,"default":100},`+
			`"mode":{"type":"string","enum":["fast","thorough","exhaustive"]},`+
			`"verbose":{"type":"boolean","description":"Include details in the output."}},"required":["path"]},`+
			`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`, i, i,
			strings.Repeat("Reads the given file and returns a summary of its contents with line numbers. ", 4))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkParse50Tools(b *testing.B) {
	data := benchManifest(50)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLint50Tools(b *testing.B) {
	m, err := Parse(benchManifest(50))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Lint(m, LintOptions{})
	}
}

func BenchmarkDiff50Tools(b *testing.B) {
	old, _ := Parse(benchManifest(50))
	cur, _ := Parse([]byte(strings.Replace(string(benchManifest(50)), "returns a summary", "returns a short summary", 10)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Diff(old, cur)
	}
}
