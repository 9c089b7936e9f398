package toolmanifest_test

import (
	"fmt"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

// Hash a manifest as `tools/list` served it: one digest per tool, and the manifest digest.
func ExampleParse() {
	served := []byte(`{"tools":[
	  {"name":"get_weather","description":"Current weather for a city.",
	   "inputSchema":{"type":"object","properties":{"city":{"type":"string"}}}}
	]}`)
	m, err := toolmanifest.Parse(served)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Sorted() {
		fmt.Println(t.Name, t.Digest)
	}
	fmt.Println("manifest", m.Digest)
	fmt.Println(string(m.Tools[0].Canonical))
	// Output:
	// get_weather sha256:f7cf4b1f771428bf310cde07efe7339ea256a75fb9835a00a0d389bb201022a4
	// manifest sha256:8148a91d8dc58d3f6a389729cab7a600829097011ece8286f8e1a99e4a5444a5
	// {"description":"Current weather for a city.","inputSchema":{"properties":{"city":{"type":"string"}},"type":"object"},"name":"get_weather"}
}

// Anything that two JSON readers could see differently is rejected.
func ExampleParse_rejected() {
	_, err := toolmanifest.Parse([]byte(`{"tools":[{"name":"a","description":"x","Description":"y"}]}`))
	fmt.Println(err)
	// Output:
	// invalid tool manifest: at /tools/0/Description (byte 54): case-variant duplicate of "description": members "description" and "Description"
}

// The manifest digest can be recomputed from the per-tool digests alone.
func ExampleManifestDigest() {
	fmt.Println(toolmanifest.ManifestDigest([]toolmanifest.ToolDigest{}))
	// Output:
	// sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
}
