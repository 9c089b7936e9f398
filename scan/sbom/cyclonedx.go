package sbom

import (
	"encoding/json"
	"fmt"
)

type cdxDocument struct {
	BOMFormat   string          `json:"bomFormat"`
	SpecVersion string          `json:"specVersion"`
	Metadata    *cdxMetadata    `json:"metadata"`
	Components  *[]cdxComponent `json:"components"`
}

type cdxMetadata struct {
	Component *cdxComponent `json:"component"`
}

type cdxComponent struct {
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Group      string         `json:"group"`
	Version    string         `json:"version"`
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

var cdxVersions = map[string]bool{"1.2": true, "1.3": true, "1.4": true, "1.5": true, "1.6": true}

func decodeCycloneDX(data []byte) (*Document, error) {
	var d cdxDocument
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: CycloneDX: %v", ErrMalformed, err)
	}
	if d.BOMFormat != "CycloneDX" {
		return nil, fmt.Errorf("%w: bomFormat is %q, want \"CycloneDX\"", ErrNotSBOM, d.BOMFormat)
	}
	if !cdxVersions[d.SpecVersion] {
		return nil, fmt.Errorf("%w: CycloneDX specVersion %q (accepted: 1.2–1.6)", ErrUnsupportedVersion, d.SpecVersion)
	}
	doc := &Document{Format: FormatCycloneDX, SpecVersion: d.SpecVersion}
	if d.Metadata != nil && d.Metadata.Component != nil {
		c := d.Metadata.Component
		doc.Subject = c.PURL
		if doc.Subject == "" {
			doc.Subject = joinNV(c.Name, c.Version)
		}
	}
	if d.Components != nil {
		walkCDX(*d.Components, &doc.Packages)
	}
	return doc, nil
}

func walkCDX(cs []cdxComponent, out *[]Package) {
	for _, c := range cs {
		// Files are not packages; syft lists the lock files it read as file components.
		if c.Type != "file" {
			name := c.Name
			if c.Group != "" && c.PURL == "" {
				name = c.Group + "/" + c.Name
			}
			*out = append(*out, FromPURL(c.PURL, name, c.Version))
		}
		walkCDX(c.Components, out)
	}
}

func joinNV(name, version string) string {
	if version == "" {
		return name
	}
	return name + "@" + version
}
