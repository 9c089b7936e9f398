package pypi

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds attestation and provenance documents to the strict parsers and the
// bundle conversion: nothing may panic, and whatever parses converts to a bundle.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if a, err := ParseAttestation(data); err == nil {
			if _, err := a.ToBundle(); err != nil {
				t.Fatalf("parsed attestation does not convert: %v", err)
			}
		}
		if p, err := ParseProvenance(data); err == nil {
			for _, b := range p.AttestationBundles {
				for _, a := range b.Attestations {
					if _, err := a.ToBundle(); err != nil {
						t.Fatalf("parsed provenance attestation does not convert: %v", err)
					}
				}
			}
		}
		_, _, _ = FileProject(string(data))
	})
}
