package adapt

import (
	"fmt"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/registry"
)

// ToolInspector is a registry.ToolInspector over attest/toolmanifest: the manifest is parsed
// strictly (anything two JSON parsers could read differently is refused), each tool hashed
// with RFC 8785, linted for poisoning, and diffed against the previous version.
type ToolInspector struct {
	lint toolmanifest.LintOptions
}

// NewToolInspector returns an inspector with the built-in list of well-known servers' tools.
func NewToolInspector() *ToolInspector { return &ToolInspector{} }

// Inspect implements registry.ToolInspector.
func (t *ToolInspector) Inspect(server string, manifest, previous []byte) (*registry.ToolReport, error) {
	m, err := toolmanifest.Parse(manifest)
	if err != nil {
		return nil, err
	}
	r := &registry.ToolReport{ManifestDigest: m.Digest, Tools: []registry.ToolDigest{}, Findings: []registry.ToolFinding{}}
	for _, tl := range m.Sorted() {
		r.Tools = append(r.Tools, registry.ToolDigest{Name: tl.Name, Digest: tl.Digest})
	}
	lint := t.lint
	lint.Server = server
	for _, f := range toolmanifest.Lint(m, lint) {
		r.Findings = append(r.Findings, registry.ToolFinding{Tool: f.Tool, Rule: f.Rule, Severity: f.Severity.String(), Pointer: f.Pointer, Message: f.Message})
	}
	if previous != nil {
		old, err := toolmanifest.Parse(previous)
		if err != nil {
			return nil, fmt.Errorf("the previous version's stored manifest: %w", err)
		}
		d := toolmanifest.Diff(old, m)
		for _, c := range d.Added {
			r.Added = append(r.Added, c.Name)
		}
		for _, c := range d.Removed {
			r.Removed = append(r.Removed, c.Name)
		}
		for _, c := range d.Changed {
			r.Changed = append(r.Changed, c.Name)
		}
	}
	return r, nil
}
