package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
		"m/README.md":     {Data: []byte("ignored")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].Name != "init" || ms[0].SQL != "A" || ms[1].Version != 2 || ms[1].SQL != "B" {
		t.Fatalf("Load = %+v", ms)
	}
	if p := Pending(ms, map[int]bool{1: true}); len(p) != 1 || p[0].Version != 2 {
		t.Fatalf("Pending = %+v", p)
	}
}

func TestLoadRejects(t *testing.T) {
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "expected number 2"},
		{"duplicate", []string{"0001_a.sql", "001_b.sql"}, "expected number 2"},
		{"no number", []string{"init.sql"}, "not named NNNN_name.sql"},
		{"zero", []string{"0000_a.sql"}, "positive number"},
		{"empty", nil, "no *.sql files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m/.keep": {}}
			for _, f := range c.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("x")}
			}
			_, err := Load(fsys, "m")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}
