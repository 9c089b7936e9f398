package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds every function of the command layer (issue 15 item 5): cmd/vetted
// wires the pieces together; a function that grows past this is doing domain work that
// belongs in registry, api or a library, or is several steps that want names.
const maxFuncLines = 80

// TestFunctionLength fails on any function or method in cmd/vetted's non-test files longer
// than maxFuncLines, counted from `func` to its closing brace (function literals count
// within their enclosing function).
func TestFunctionLength(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			checked++
			start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
			if n := end.Line - start.Line + 1; n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines; the command layer allows %d (move the work into its package or split it into named steps)",
					name, start.Line, fd.Name.Name, n, maxFuncLines)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d functions: the test is not reading cmd/vetted", checked)
	}
}
