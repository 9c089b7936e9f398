package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/gowebpki/jcs"
)

// The fields of a package that say how it is started. The identifier is not among them: a
// new version names a new image or package version, and that is verified on its own.
var packageLaunchFields = []string{"registryType", "registryBaseUrl", "runtimeHint", "runtimeArguments", "packageArguments", "environmentVariables", "transport"}

// Section is the launch configuration of one package or remote: its launch fields, as
// canonical JSON (RFC 8785).
type Section struct {
	// Pointer is "/packages/N" or "/remotes/N".
	Pointer string `json:"pointer"`
	// Label names it for people: "packages[0] ghcr.io/acme/weather:1.0" or "remotes[0] https://…".
	Label string          `json:"label"`
	JSON  json.RawMessage `json:"json"`
}

// Sections returns the launch sections of a server.json, packages first.
func Sections(serverJSON []byte) ([]Section, error) {
	root, err := object(serverJSON, "")
	if err != nil {
		return nil, err
	}
	var out []Section
	for _, kind := range []string{"packages", "remotes"} {
		items, err := array(root[kind], "/"+kind)
		if err != nil {
			return nil, err
		}
		for i, raw := range items {
			at := "/" + kind + "/" + strconv.Itoa(i)
			m, err := object(raw, at)
			if err != nil {
				return nil, err
			}
			keep := map[string]json.RawMessage{}
			label := fmt.Sprintf("%s[%d]", kind, i)
			if kind == "packages" {
				for _, f := range packageLaunchFields {
					if v, ok := m[f]; ok {
						keep[f] = v
					}
				}
				if id, _ := str(m, "identifier", at); id != "" {
					label += " " + id
				}
			} else {
				keep = m
				if u, _ := str(m, "url", at); u != "" {
					label += " " + u
				}
			}
			b, err := json.Marshal(keep)
			if err != nil {
				return nil, malformed(at, "%v", err)
			}
			c, err := jcs.Transform(b)
			if err != nil {
				return nil, malformed(at, "cannot be canonicalized: %v", err)
			}
			out = append(out, Section{Pointer: at, Label: label, JSON: c})
		}
	}
	return out, nil
}

// Change is one launch section that differs between two versions.
type Change struct {
	Pointer string `json:"pointer"`
	Label   string `json:"label"`
	// Kind is "added", "removed" or "changed".
	Kind string `json:"kind"`
	// Fields are the launch fields that differ ("runtimeArguments", "headers", …).
	Fields []string        `json:"fields,omitempty"`
	Old    json.RawMessage `json:"old,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
}

// Diff compares launch sections by position (packages[0] with packages[0], …).
func Diff(old, cur []Section) []Change {
	byPtr := map[string]Section{}
	for _, s := range old {
		byPtr[s.Pointer] = s
	}
	var out []Change
	seen := map[string]bool{}
	for _, s := range cur {
		seen[s.Pointer] = true
		o, ok := byPtr[s.Pointer]
		switch {
		case !ok:
			out = append(out, Change{Pointer: s.Pointer, Label: s.Label, Kind: "added", New: s.JSON})
		case !bytes.Equal(o.JSON, s.JSON):
			out = append(out, Change{Pointer: s.Pointer, Label: s.Label, Kind: "changed", Fields: changedFields(o.JSON, s.JSON), Old: o.JSON, New: s.JSON})
		}
	}
	for _, s := range old {
		if !seen[s.Pointer] {
			out = append(out, Change{Pointer: s.Pointer, Label: s.Label, Kind: "removed", Old: s.JSON})
		}
	}
	return out
}

func changedFields(a, b json.RawMessage) []string {
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	var out []string
	for k, v := range mb {
		if !bytes.Equal(ma[k], v) {
			out = append(out, k)
		}
	}
	for k := range ma {
		if _, ok := mb[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
