package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/api"
)

func TestVersionCommandAndFlag(t *testing.T) {
	b := api.Build()
	want := "vetted " + b.Version + " (commit " + b.GitCommit + ", built " + b.BuildTime + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		root := newRootCmd(&env{})
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.String() != want || !strings.Contains(want, b.Version) {
			t.Errorf("%v: %q, want %q", args, out.String(), want)
		}
	}
}
