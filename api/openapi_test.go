package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/openapi"
)

// The committed document must be the generated one, whole; `task openapi` regenerates it.
func TestCommittedOpenAPIIsCurrent(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, openapi.YAML) {
		t.Fatalf("openapi/openapi.yaml is stale: run `task openapi` and commit it\n%s", firstDiff(string(openapi.YAML), string(doc)))
	}
	served := get(t, newServer(t, newMemStore()), "/openapi.yaml")
	if served.code != 200 || served.body != string(openapi.YAML) {
		t.Fatalf("served /openapi.yaml differs from the committed document\n%s", firstDiff(string(openapi.YAML), served.body))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n  committed: " + a + "\n  generated: " + b
		}
	}
	return ""
}
