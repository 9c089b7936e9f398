package registry

import (
	"encoding/json"
	"fmt"
)

// ServerJSONWarnings lists the fields of a server.json that the current schema keeps but
// that have no effect, so that a publisher learns why, say, an image resolves on another
// registry than intended: registryBaseUrl and version on OCI packages (the identifier is
// the full image reference, registry host and tag included). raw is a server.json that
// ParseServerJSON accepted; anything else gives no warnings.
func ServerJSONWarnings(raw []byte) []string {
	var doc struct {
		Packages []struct {
			RegistryType    string `json:"registryType"`
			RegistryBaseURL string `json:"registryBaseUrl"`
			Identifier      string `json:"identifier"`
			Version         string `json:"version"`
		} `json:"packages"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	for i, p := range doc.Packages {
		if p.RegistryType != "oci" {
			continue
		}
		if p.RegistryBaseURL != "" {
			out = append(out, fmt.Sprintf("packages[%d].registryBaseUrl %q is ignored for OCI packages: the identifier %q is the whole image reference, so it names the registry (Docker Hub when it has no host); write e.g. \"ghcr.io/acme/weather:1.0.0\"", i, p.RegistryBaseURL, p.Identifier))
		}
		if p.Version != "" {
			out = append(out, fmt.Sprintf("packages[%d].version %q is ignored for OCI packages: the tag or digest in the identifier %q is what is resolved and pinned", i, p.Version, p.Identifier))
		}
	}
	return out
}
