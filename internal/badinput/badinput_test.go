package badinput

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed corpus")

const committed = "../../examples/badinput/corpus.jsonl"

// The committed corpus is what Generate builds (go test ./internal/badinput -update).
func TestCommittedCorpusIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Generate()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(committed, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is stale: go test ./internal/badinput -update", filepath.Clean(committed))
	}
}

// The corpus reads back, is large enough, and covers every kind of input the issue names
// and every finding.
func TestCorpusShape(t *testing.T) {
	f, err := os.Open(committed)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("%d cases, want at least 500", len(cases))
	}
	kinds := map[string]int{}
	findings := map[string]int{}
	for _, c := range cases {
		kinds[strings.SplitN(c.Name, "/", 2)[0]]++
		if c.Finding != "" {
			findings[c.Finding]++
		}
		b, err := c.BodyBytes()
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, s := range c.Status {
			if s >= 500 && s != 501 {
				t.Errorf("%s accepts %d", c.Name, s)
			}
		}
		if c.Name == "size/one-mebibyte" && len(b) <= 1<<20 {
			t.Errorf("%s: %d bytes", c.Name, len(b))
		}
	}
	for _, k := range []string{"finding", "key-variant", "key-sibling", "key-duplicate", "document", "syntax", "size", "token", "path", "query", "header", "method", "review", "content-type"} {
		if kinds[k] == 0 {
			t.Errorf("no %s cases", k)
		}
	}
	for _, f := range []string{"17.1", "17.2", "17.3", "17.9"} {
		if findings[f] == 0 {
			t.Errorf("no case for finding %s", f)
		}
	}
	t.Logf("%d cases: %v", len(cases), kinds)
}
