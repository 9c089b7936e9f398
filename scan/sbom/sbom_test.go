package sbom_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/scan/sbom"
)

func TestDecodeSharedSBOMs(t *testing.T) {
	tests := []struct {
		file       string
		format     sbom.Format
		spec       string
		packages   int // after de-duplication
		ecosystems string
		subject    string
	}{
		{"cern-lhc-vdm-editor-e564943.cdx.json", sbom.FormatCycloneDX, "1.2", 43, "npm", "pkg:npm/lhc-vdm-editor@0.0.1"},
		{"juice-shop-v11.1.2.cdx.json", sbom.FormatCycloneDX, "1.2", 840, "npm", "pkg:npm/juice-shop@11.1.2"},
		{"proton-bridge-v1.6.3.cdx.json", sbom.FormatCycloneDX, "1.2", 201, "Go", "pkg:golang/github.com/ProtonMail/proton-bridge@v1.6.3"},
		{"dropwizard-1.3.15.cdx.json", sbom.FormatCycloneDX, "1.2", 167, "Maven", "pkg:maven/io.dropwizard/dropwizard-parent@1.3.15"},
		{"github-mcp-server-v0.1.0.syft.cdx.json", sbom.FormatCycloneDX, "1.6", 58, "Go", "github-mcp-server@v0.1.0"},
		{"github-mcp-server-v0.20.0.syft.spdx.json", sbom.FormatSPDX, "2.3", 45, "Go", "github-mcp-server@v0.20.0"},
		{"mcp-servers-npm.syft.spdx.json", sbom.FormatSPDX, "2.3", 401, // 404 entries, 3 exact duplicates
			"npm", "modelcontextprotocol-servers@a835f3c2"},
		{"mcp-server-fetch.syft.cdx.json", sbom.FormatCycloneDX, "1.6", 38, "PyPI", "mcp-server-fetch@a835f3c2"},
		{"mcp-server-git.syft.spdx.json", sbom.FormatSPDX, "2.3", 31, "PyPI", "mcp-server-git@a835f3c2"},
		{"osv-scanner-locks-requirements.syft.spdx.json", sbom.FormatSPDX, "2.3", 3, "PyPI", "osv-scanner-locks-requirements@add393a2"},
		{"osv-scanner-locks-insecure.syft.cdx.json", sbom.FormatCycloneDX, "1.6", 1, "npm", "osv-scanner-locks-insecure@add393a2"},
		{"osv-scanner-alpine-zlib-16.cdx.json", sbom.FormatCycloneDX, "1.6", 1, "Alpine:v3.22", ""},
		{"derived-mixed-apk-npm.cdx.json", sbom.FormatCycloneDX, "1.6", 2, "Alpine:v3.22,npm", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(testenv.SharedTestdata(t, "sbom", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := sbom.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Format != tc.format || doc.SpecVersion != tc.spec {
				t.Errorf("format %s %s, want %s %s", doc.Format, doc.SpecVersion, tc.format, tc.spec)
			}
			if len(doc.Packages) != tc.packages {
				t.Errorf("%d packages, want %d", len(doc.Packages), tc.packages)
			}
			if doc.Subject != tc.subject {
				t.Errorf("subject %q, want %q", doc.Subject, tc.subject)
			}
			ecos := map[string]bool{}
			for _, p := range doc.Packages {
				if !p.Assessable() {
					t.Errorf("package %+v not assessable: %s", p, p.Reason)
				}
				ecos[p.Ecosystem] = true
			}
			var got []string
			for _, e := range strings.Split(tc.ecosystems, ",") {
				if !ecos[e] {
					t.Errorf("no %s package", e)
				}
				got = append(got, e)
			}
			if len(ecos) != len(got) {
				t.Errorf("ecosystems %v, want %s", ecos, tc.ecosystems)
			}
		})
	}
}

func TestPackageNames(t *testing.T) {
	tests := []struct{ purl, name, version, eco, reason string }{
		{"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10", "com.fasterxml.jackson.core:jackson-databind", "2.9.10", "Maven", ""},
		{"pkg:golang/github.com/docker/docker@v28.0.4%2Bincompatible", "github.com/docker/docker", "v28.0.4+incompatible", "Go", ""},
		{"pkg:npm/%40babel/core@7.0.0", "@babel/core", "7.0.0", "npm", ""},
		{"pkg:pypi/Django_REST.framework@3.0", "django-rest-framework", "3.0", "PyPI", ""},
		{"pkg:apk/alpine/zlib@1.2.12-r1?distro=alpine-3.22.0", "zlib", "1.2.12-r1", "Alpine:v3.22", ""},
		{"pkg:deb/debian/openssl@3.0.11-1?distro=debian-12", "openssl", "3.0.11-1", "Debian:12", ""},
		{"pkg:cargo/serde@1.0.0", "serde", "1.0.0", "crates.io", ""},
		{"pkg:oci/alpine@sha256%3Aabc", "alpine", "sha256:abc", "", "no OSV ecosystem for package type oci"},
		{"pkg:npm/left-pad", "left-pad", "", "npm", "no version"},
		{"not a purl", "", "", "", "invalid package URL"},
	}
	for _, tc := range tests {
		p := sbom.FromPURL(tc.purl, "", "")
		if p.Name != tc.name || p.Version != tc.version || p.Ecosystem != tc.eco || !strings.HasPrefix(p.Reason, tc.reason) {
			t.Errorf("%s: got %+v, want name %q version %q ecosystem %q reason %q", tc.purl, p, tc.name, tc.version, tc.eco, tc.reason)
		}
	}
}

const cdxMinimal = `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
 {"type":"library","name":"a","version":"1.0.0","purl":"pkg:npm/a@1.0.0"},
 {"type":"library","name":"a","version":"1.0.0","purl":"pkg:npm/a@1.0.0"},
 {"type":"file","name":"package-lock.json"},
 {"type":"library","name":"parent","version":"2.0.0","purl":"pkg:npm/parent@2.0.0","components":[
   {"type":"library","name":"child","version":"3.0.0","purl":"pkg:npm/child@3.0.0"}]},
 {"type":"library","name":"nopurl","version":"1"}]}`

func TestDecodeCycloneDXDetails(t *testing.T) {
	doc, err := sbom.Decode(strings.NewReader(cdxMinimal))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range doc.Packages {
		got = append(got, p.Name+"@"+p.Version+"/"+p.Reason)
	}
	want := "nopurl@1/no package URL (purl),a@1.0.0/,child@3.0.0/,parent@2.0.0/"
	if strings.Join(got, ",") != want {
		t.Errorf("packages %s, want %s (duplicates dropped, files skipped, nested kept)", strings.Join(got, ","), want)
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := `{"bomFormat":"CycloneDX","specVersion":"1.6","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	tests := []struct {
		name   string
		input  string
		lim    sbom.Limits
		target error
		msg    string
	}{
		{"empty", "", sbom.DefaultLimits, sbom.ErrNotSBOM, "not a JSON object"},
		{"array", `[1,2]`, sbom.DefaultLimits, sbom.ErrNotSBOM, "not a JSON object"},
		{"OSV record", `{"id":"GO-2020-0001","modified":"2020-01-01T00:00:00Z"}`, sbom.DefaultLimits, sbom.ErrNotSBOM, "neither bomFormat"},
		{"truncated", cdxMinimal[:len(cdxMinimal)/2], sbom.DefaultLimits, sbom.ErrMalformed, "invalid JSON"},
		{"no packages CycloneDX", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`, sbom.DefaultLimits, sbom.ErrNoPackages, "no packages"},
		{"no packages SPDX", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[]}`, sbom.DefaultLimits, sbom.ErrNoPackages, "no packages"},
		{"only files", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"file","name":"x"}]}`, sbom.DefaultLimits, sbom.ErrNoPackages, "no packages"},
		{"wrong bomFormat", `{"bomFormat":"SWID","specVersion":"1.6"}`, sbom.DefaultLimits, sbom.ErrNotSBOM, "bomFormat"},
		{"CycloneDX 1.1", `{"bomFormat":"CycloneDX","specVersion":"1.1","components":[]}`, sbom.DefaultLimits, sbom.ErrUnsupportedVersion, "1.2–1.6"},
		{"SPDX 3", `{"spdxVersion":"SPDX-3.0","SPDXID":"SPDXRef-DOCUMENT"}`, sbom.DefaultLimits, sbom.ErrUnsupportedVersion, "SPDX-3.0"},
		{"SPDX bad id", `{"spdxVersion":"SPDX-2.3","SPDXID":"x","packages":[]}`, sbom.DefaultLimits, sbom.ErrMalformed, "SPDXRef-DOCUMENT"},
		{"both formats", `{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX"}`, sbom.DefaultLimits, sbom.ErrMalformed, "both"},
		{"wrong type", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"a":1}}`, sbom.DefaultLimits, sbom.ErrMalformed, "CycloneDX"},
		{"too deep", deep, sbom.DefaultLimits, sbom.ErrTooLarge, "nested deeper than 64"},
		{"too large", cdxMinimal, sbom.Limits{MaxBytes: 100, MaxDepth: 64}, sbom.ErrTooLarge, "larger than 100 bytes"},
		{"too many packages", cdxMinimal, sbom.Limits{MaxBytes: 1 << 20, MaxDepth: 64, MaxPackages: 2}, sbom.ErrTooLarge, "limit 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sbom.DecodeWithLimits(strings.NewReader(tc.input), tc.lim)
			if !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.target, tc.msg)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(cdxMinimal))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"SPDXRef-p","name":"x","versionInfo":"1","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/x@1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := sbom.DecodeWithLimits(bytes.NewReader(data), sbom.Limits{MaxBytes: 1 << 20, MaxDepth: 32, MaxPackages: 1000})
		if err != nil {
			return
		}
		if len(doc.Packages) == 0 {
			t.Fatal("decoded an SBOM with no packages without error")
		}
		for _, p := range doc.Packages {
			if p.Reason == "" && (p.Ecosystem == "" || p.Version == "" || p.Name == "") {
				t.Fatalf("assessable package without ecosystem, name or version: %+v", p)
			}
		}
	})
}
