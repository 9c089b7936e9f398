package pypisbom

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
)

func wheel(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const metadata = "Metadata-Version: 2.1\nName: weather-mcp\nVersion: 1.0.0\nRequires-Dist: mcp>=1.2\nRequires-Dist: jinja2==2.10\nRequires-Dist: pytest; extra == \"test\"\n\nA weather server.\n"

// A wheel without a lock file: its exact pins are scanned, its ranges reported unpinned.
func TestWheelRequiresDist(t *testing.T) {
	data := wheel(t, map[string]string{"weather_mcp/__init__.py": "", "weather_mcp-1.0.0.dist-info/METADATA": metadata})
	r, err := Generator{}.Generate(context.Background(), []registry.PyPIFilePin{{Filename: "weather_mcp-1.0.0-py3-none-any.whl", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unpinned) != 1 || r.Unpinned[0] != "mcp>=1.2" || len(r.Lockfiles) != 0 {
		t.Fatalf("unpinned %v locks %v", r.Unpinned, r.Lockfiles)
	}
	for _, want := range []string{"pkg:pypi/jinja2@2.10", "pkg:pypi/weather-mcp@1.0.0"} {
		if !strings.Contains(string(r.SBOM), want) {
			t.Errorf("SBOM lacks %s:\n%s", want, r.SBOM)
		}
	}
}

// A shipped lock file pins what installs: it is cataloged and nothing is unpinned.
func TestWheelShippedLockFile(t *testing.T) {
	data := wheel(t, map[string]string{"weather_mcp-1.0.0.dist-info/METADATA": metadata,
		"weather_mcp/requirements.lock.txt": "mcp==1.2.0\nurllib3==1.26.4\n"})
	r, err := Generator{}.Generate(context.Background(), []registry.PyPIFilePin{{Filename: "weather_mcp-1.0.0-py3-none-any.whl", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unpinned) != 0 || len(r.Lockfiles) != 1 || !strings.Contains(string(r.SBOM), "pkg:pypi/urllib3@1.26.4") {
		t.Fatalf("unpinned %v locks %v\n%s", r.Unpinned, r.Lockfiles, r.SBOM)
	}
}

// The real sdist fixture: PKG-INFO and pyproject.toml read, its ranges reported.
func TestSdistFixture(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedTestdata(t, "pypi", "pypi_attestations-0.0.19.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Generator{}.Generate(context.Background(), []registry.PyPIFilePin{{Filename: "pypi_attestations-0.0.19.tar.gz", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unpinned) == 0 || !strings.Contains(strings.Join(r.Unpinned, ","), "sigstore") {
		t.Fatalf("unpinned %v", r.Unpinned)
	}
	t.Logf("unpinned: %v", r.Unpinned)
}

// An MCP bundle's shipped node_modules are cataloged.
func TestBundleNodeModules(t *testing.T) {
	data := wheel(t, map[string]string{"manifest.json": "{}", "server/index.js": "",
		"node_modules/lodash/package.json": `{"name":"lodash","version":"4.17.15"}`})
	r, err := Generator{}.Generate(context.Background(), []registry.PyPIFilePin{{Filename: "bundle.mcpb", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.SBOM), "pkg:npm/lodash@4.17.15") {
		t.Fatalf("%s", r.SBOM)
	}
}

func TestRefusals(t *testing.T) {
	for name, data := range map[string][]byte{
		"traversal": wheel(t, map[string]string{"../requirements.txt": "x==1"}),
		"not a zip": []byte("nope"),
	} {
		if _, err := (Generator{}).Generate(context.Background(), []registry.PyPIFilePin{{Filename: "x-1.0-py3-none-any.whl", Data: data}}); !errors.Is(err, ErrArchive) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (Generator{}).Generate(context.Background(), []registry.PyPIFilePin{{Filename: "x.exe", Data: nil}}); !errors.Is(err, ErrArchive) {
		t.Error(err)
	}
}

func TestExactPin(t *testing.T) {
	for in, want := range map[string]bool{"jinja2==2.10": true, "Jinja2 (==2.10)": true, "a[extra]==1.0": true, "a>=1": false, "a==1.*": false, "a": false, "a~=1.0": false} {
		if _, _, ok := exactPin(in); ok != want {
			t.Errorf("exactPin(%q) = %v", in, ok)
		}
	}
}
