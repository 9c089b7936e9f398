package pypi

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, c := range [][2]string{{"pypi-attestations", "pypi_attestations"}, {"PyPI.Attestations", "pypi--attestations"}, {"Foo__Bar", "foo.bar"}} {
		if !SameProject(c[0], c[1]) {
			t.Errorf("%q and %q differ: %s, %s", c[0], c[1], Normalize(c[0]), Normalize(c[1]))
		}
	}
	if SameProject("pypi-attestation", "pypi-attestations") {
		t.Error("different projects compare equal")
	}
}

func TestFileProject(t *testing.T) {
	for _, c := range []struct{ file, name, version string }{
		{"pypi_attestations-0.0.19.tar.gz", "pypi_attestations", "0.0.19"},
		{"rfc8785-0.1.2-py3-none-any.whl", "rfc8785", "0.1.2"},
		{"foo-1.0-1-py3-none-any.whl", "foo", "1.0"},
	} {
		n, v, err := FileProject(c.file)
		if err != nil || n != c.name || v != c.version {
			t.Errorf("%s: %q %q %v", c.file, n, v, err)
		}
	}
	for _, bad := range []string{"foo.exe", "../x-1.tar.gz", "x.tar.gz", "a-b-c.whl", "-1.0.tar.gz"} {
		if _, _, err := FileProject(bad); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestParseAndConvert(t *testing.T) {
	data, err := os.ReadFile("testdata/provenance.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProvenance(data)
	if err != nil {
		t.Fatal(err)
	}
	if pub := p.AttestationBundles[0].Publisher; pub.Kind != "GitHub" || pub.Repository != "trailofbits/pypi-attestations" || pub.Workflow != "release.yml" {
		t.Fatalf("publisher %+v", pub)
	}
	b, err := p.AttestationBundles[0].Attestations[0].ToBundle()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["mediaType"] != BundleMediaType {
		t.Fatalf("bundle %s: %v", b, err)
	}
	for _, c := range []struct{ file, want string }{
		{"testdata/empty-bundles.json", "0 attestation_bundles"},
		{"testdata/bad-version.json", "attestation version 2"},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		_, err1 := ParseProvenance(data)
		_, err2 := ParseAttestation(data)
		if (err1 == nil || !errors.Is(err1, ErrMalformed)) || (err2 == nil || !errors.Is(err2, ErrMalformed)) {
			t.Fatalf("%s: %v / %v", c.file, err1, err2)
		}
		if !strings.Contains(err1.Error()+err2.Error(), c.want) {
			t.Errorf("%s: %v / %v, want %q", c.file, err1, err2, c.want)
		}
	}
	big := make([]byte, MaxDocument+1)
	if _, err := ParseAttestation(big); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized: %v", err)
	}
	if _, err := ParseAttestation([]byte(`{"version":1,"version":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate key: %v", err)
	}
}
