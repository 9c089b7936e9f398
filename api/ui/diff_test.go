package ui

import (
	"strings"
	"testing"
)

func TestToolDiffRevealsHiddenCharacters(t *testing.T) {
	oldM := []byte(`{"tools":[{"name":"a","description":"Adds two numbers."}]}`)
	newM := []byte("{\"tools\":[{\"name\":\"a\",\"description\":\"Adds two numbers.\u200b\U000E0049\U000E0067\u202e\"}]}")
	d := buildToolDiff(oldM, newM, nil)
	if d.Error != "" || len(d.Tools) != 1 || d.Tools[0].Kind != "changed" {
		t.Fatalf("diff: %+v", d)
	}
	var added []string
	for _, l := range d.Tools[0].Lines {
		if l.NewKind == "add" {
			added = append(added, l.New)
		}
	}
	got := strings.Join(added, "\n")
	for _, want := range []string{"⟨U+200B⟩", "⟨U+E0049⟩", "⟨U+E0067⟩", "⟨U+202E⟩"} {
		if !strings.Contains(got, want) {
			t.Errorf("added line %q does not show %s", got, want)
		}
	}
	if w := string(wordDiff("x {+\u200b+}")); !strings.Contains(w, "<ins>⟨U+200B⟩</ins>") {
		t.Errorf("word diff: %s", w)
	}
}

func TestSideBySideAligns(t *testing.T) {
	rows := sideBySide([]string{"{", "a", "b", "}"}, []string{"{", "a", "c", "d", "}"})
	want := []sideLine{
		{Old: "{", New: "{", OldKind: "same", NewKind: "same"},
		{Old: "a", New: "a", OldKind: "same", NewKind: "same"},
		{Old: "b", New: "c", OldKind: "del", NewKind: "add"},
		{Old: "", New: "d", OldKind: "empty", NewKind: "add"},
		{Old: "}", New: "}", OldKind: "same", NewKind: "same"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows: %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}
