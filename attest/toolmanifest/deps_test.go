package toolmanifest

import (
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependencyBudget keeps the library pure: the standard library, JCS, x/text and the
// Unicode confusables table (github.com/mtibben/confusables, generated from confusables.txt).
// (In particular never the attest package, which imports this one.)
func TestDependencyBudget(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := goparser.ParseFile(token.NewFileSet(), f, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first := strings.Split(path, "/")[0]
			switch {
			case !strings.Contains(first, "."): // standard library
			case path == "github.com/gowebpki/jcs", path == "github.com/mtibben/confusables", strings.HasPrefix(path, "golang.org/x/text/"):
			default:
				t.Errorf("%s imports %s: toolmanifest may use only the standard library, jcs, confusables and x/text", f, path)
			}
			if path == "net/http" || path == "os" || path == "database/sql" {
				t.Errorf("%s imports %s: toolmanifest does no I/O", f, path)
			}
		}
	}
}
