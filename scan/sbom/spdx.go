package sbom

import (
	"encoding/json"
	"fmt"
	"strings"
)

type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentDescribes []string           `json:"documentDescribes"`
	Packages          *[]spdxPackage     `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxPackage struct {
	SPDXID       string            `json:"SPDXID"`
	Name         string            `json:"name"`
	VersionInfo  string            `json:"versionInfo"`
	ExternalRefs []spdxExternalRef `json:"externalRefs"`
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var spdxVersions = map[string]bool{"SPDX-2.2": true, "SPDX-2.3": true}

func decodeSPDX(data []byte) (*Document, error) {
	var d spdxDocument
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: SPDX: %v", ErrMalformed, err)
	}
	if !spdxVersions[d.SPDXVersion] {
		if strings.HasPrefix(d.SPDXVersion, "SPDX-") {
			return nil, fmt.Errorf("%w: SPDX version %q (accepted: SPDX-2.2, SPDX-2.3)", ErrUnsupportedVersion, d.SPDXVersion)
		}
		return nil, fmt.Errorf("%w: spdxVersion is %q", ErrNotSBOM, d.SPDXVersion)
	}
	if d.SPDXID != "SPDXRef-DOCUMENT" {
		return nil, fmt.Errorf("%w: SPDX document SPDXID is %q, want SPDXRef-DOCUMENT", ErrMalformed, d.SPDXID)
	}
	doc := &Document{Format: FormatSPDX, SpecVersion: strings.TrimPrefix(d.SPDXVersion, "SPDX-")}
	// What the document describes is its subject, not one of its dependencies.
	described := map[string]bool{}
	for _, id := range d.DocumentDescribes {
		described[id] = true
	}
	for _, r := range d.Relationships {
		if r.Element == "SPDXRef-DOCUMENT" && strings.EqualFold(r.Type, "DESCRIBES") {
			described[r.Related] = true
		}
	}
	if d.Packages == nil {
		return doc, nil
	}
	for _, p := range *d.Packages {
		purl := ""
		for _, ref := range p.ExternalRefs {
			t := strings.ToLower(ref.Type)
			if t == "purl" || t == "http://spdx.org/rdf/references/purl" {
				purl = ref.Locator
				break
			}
		}
		if described[p.SPDXID] {
			doc.Subject = joinNV(p.Name, p.VersionInfo)
			if purl != "" {
				doc.Subject = purl
			}
			continue
		}
		doc.Packages = append(doc.Packages, FromPURL(purl, p.Name, p.VersionInfo))
	}
	return doc, nil
}
