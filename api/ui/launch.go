package ui

import (
	"strings"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/launch"
)

// launchView is the review page's view of the launch configuration: each package's and
// remote's launch fields side by side with the previous version's, and the lint findings
// placed on the section they concern.
type launchView struct {
	// First is true when there is no previous version to compare with.
	First    bool
	Sections []launchSection
	// Error explains a launch configuration that cannot be read.
	Error string
}

type launchSection struct {
	Label    string
	Pointer  string
	Kind     string // added, removed, changed, unchanged
	Fields   []string
	Lines    []sideLine
	Findings []launch.Finding
}

func buildLaunchView(prev *registry.Version, cur registry.Version) *launchView {
	lv := &launchView{First: prev == nil}
	curS, err := launch.Sections(cur.ServerJSON)
	if err != nil {
		lv.Error = "The launch configuration cannot be read: " + err.Error()
		return lv
	}
	var findings []launch.Finding
	if cfg, err := launch.Parse(cur.ServerJSON); err == nil {
		findings = launch.Lint(cfg)
	}
	var oldS []launch.Section
	if prev != nil {
		oldS, _ = launch.Sections(prev.ServerJSON)
	}
	diff := launch.Diff(oldS, curS)
	changes := map[string]launch.Change{}
	for _, c := range diff {
		changes[c.Pointer] = c
	}
	for _, s := range curS {
		sec := launchSection{Label: s.Label, Pointer: s.Pointer, Kind: "unchanged"}
		if c, ok := changes[s.Pointer]; ok {
			sec.Kind, sec.Fields = c.Kind, c.Fields
			sec.Lines = sideBySide(pretty(c.Old), pretty(c.New))
			if c.Kind == "added" {
				sec.Lines = sideBySide(nil, pretty(c.New))
			}
		} else {
			sec.Lines = sideBySide(pretty(s.JSON), pretty(s.JSON))
		}
		for _, f := range findings {
			if f.Pointer == s.Pointer || strings.HasPrefix(f.Pointer, s.Pointer+"/") {
				sec.Findings = append(sec.Findings, f)
			}
		}
		lv.Sections = append(lv.Sections, sec)
	}
	for _, c := range diff {
		if c.Kind == "removed" {
			lv.Sections = append(lv.Sections, launchSection{Label: c.Label, Pointer: c.Pointer, Kind: "removed", Lines: sideBySide(pretty(c.Old), nil)})
		}
	}
	return lv
}
