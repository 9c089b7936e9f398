package toolmanifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestVectors checks the Go implementation against digests computed independently by
// testdata/vectors/gen_expected.py (a separate JCS implementation in Python).
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]Summary
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	if len(files) < 5 {
		t.Fatalf("expected at least 5 vector files, found %d", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "expected.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected digests for %s: rerun gen_expected.py", name)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := m.Summary()
			if !reflect.DeepEqual(got, w) {
				t.Errorf("summary mismatch\n got: %+v\nwant: %+v", got, w)
			}
			if m.Digest != w.ManifestDigest {
				t.Errorf("Manifest.Digest = %s, want %s", m.Digest, w.ManifestDigest)
			}
			// Re-encoding (indentation) must not change any digest.
			m2, err := Parse(m.Encode())
			if err != nil {
				t.Fatalf("Parse(Encode()): %v", err)
			}
			if m2.Digest != m.Digest {
				t.Errorf("digest changed after Encode: %s != %s", m2.Digest, m.Digest)
			}
			// The manifest digest is recomputable from the listing alone.
			if d := ManifestDigest(w.Tools); d != w.ManifestDigest {
				t.Errorf("ManifestDigest(listing) = %s, want %s", d, w.ManifestDigest)
			}
		})
	}
}
