package mirror

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/vetted-dev/vetted/registry"
)

// Curation says which upstream versions are candidates. Names are matched with path.Match
// patterns ("io.github.acme/*", "com.example/weather", "*"); a name must match one of
// Include and none of Exclude. PackageTypes, when set, lists the registryTypes allowed
// ("oci", "npm", …): every package of a version must be one of them, and "remote" admits
// remote-only servers (no packages). LatestOnly keeps only the versions the upstream marks
// latest. Upstream deletions are matched by name only: a deleted version held locally is
// quarantined whatever its package types or latest flag.
type Curation struct {
	Include      []string `json:"include"`
	Exclude      []string `json:"exclude,omitempty"`
	PackageTypes []string `json:"package_types,omitempty"`
	LatestOnly   bool     `json:"latest_only,omitempty"`
}

// Validate checks the patterns.
func (c Curation) Validate() error {
	if len(c.Include) == 0 {
		return fmt.Errorf("curation: include names no pattern (nothing would be mirrored; \"*\" takes everything): %w", registry.ErrInvalid)
	}
	for _, p := range append(slices.Clone(c.Include), c.Exclude...) {
		if _, err := path.Match(p, "x/y"); err != nil || p == "" {
			return fmt.Errorf("curation: name pattern %q is malformed: %w", p, registry.ErrInvalid)
		}
	}
	for _, t := range c.PackageTypes {
		if t == "" || strings.TrimSpace(t) != t {
			return fmt.Errorf("curation: package type %q is malformed: %w", t, registry.ErrInvalid)
		}
	}
	return nil
}

// Names reports whether name is curated (matches an include and no exclude pattern).
func (c Curation) Names(name string) bool {
	return matchAny(c.Include, name) && !matchAny(c.Exclude, name)
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// why returns "" when the version (a live upstream entry) is a candidate, else the reason it
// is skipped.
func (c Curation) why(name string, server json.RawMessage, latest bool) string {
	if !c.Names(name) {
		return "not named by the curation list"
	}
	if c.LatestOnly && !latest {
		return "not the upstream's latest version (latest_only)"
	}
	if len(c.PackageTypes) == 0 {
		return ""
	}
	var doc struct {
		Packages []struct {
			RegistryType string `json:"registryType"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(server, &doc); err != nil {
		return "" // the pipeline names what is wrong with it
	}
	if len(doc.Packages) == 0 {
		if slices.Contains(c.PackageTypes, "remote") {
			return ""
		}
		return "a remote-only server (\"remote\" is not in package_types)"
	}
	for _, p := range doc.Packages {
		if !slices.Contains(c.PackageTypes, p.RegistryType) {
			return fmt.Sprintf("package type %q is not in package_types", p.RegistryType)
		}
	}
	return ""
}
