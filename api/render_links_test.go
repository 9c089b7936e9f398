package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// The links to the extension endpoints are rendered from the version's name and version
// at response time, added to whatever verification object is stored.
func TestRenderAddsLinks(t *testing.T) {
	for _, stored := range []string{`{"packages":[],"decidedAt":"2026-11-25T12:00:00Z"}`, ` { } `} {
		var buf bytes.Buffer
		v := registry.Version{Name: "io.github.acme/w", Version: "1.0.0", ServerJSON: []byte(`{"name":"io.github.acme/w"}`), Vetted: []byte(stored)}
		if err := appendVersion(&buf, v); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Meta map[string]struct {
				Links map[string]string `json:"links"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%s: not JSON: %v: %s", stored, err, buf.Bytes())
		}
		links := got.Meta[VettedMetaKey].Links
		if links["tools"] != ExtensionPrefix+"/servers/io.github.acme%2Fw/versions/1.0.0/tools" || links["attestationKey"] != VSAKeyPath || len(links) != 6 {
			t.Fatalf("%s: links %v in %s", stored, links, buf.Bytes())
		}
	}
	// Nothing stored: no verification object, no links.
	var buf bytes.Buffer
	if err := appendVersion(&buf, registry.Version{Name: "a/b", Version: "1", ServerJSON: []byte(`{}`)}); err != nil || bytes.Contains(buf.Bytes(), []byte("links")) {
		t.Fatalf("%s, %v", buf.Bytes(), err)
	}
}
