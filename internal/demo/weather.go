package demo

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/internal/mcp/capture"
	"github.com/vetted-dev/vetted/internal/weather"
)

// OSV holds the demo's OSV records in the mirror layout (<ecosystem>/<id>.json).
//
//go:embed osv/*/*.json osv/ATTRIBUTION.md
var OSV embed.FS

// WriteOSV writes the embedded records and their attribution under dir, in the mirror
// layout the registry reads (dir/<ecosystem>/<id>.json).
func WriteOSV(dir string) error {
	return fs.WalkDir(OSV, "osv", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := OSV.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p[len("osv/"):]))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// NPM is one npm dependency an image ships.
type NPM struct{ Name, Version string }

// Build describes one image of the weather server.
type Build struct {
	Repo, Tag string
	// Description replaces the forecast tool's description ("" keeps the default).
	Description string
	// Deps are the npm packages of the image's lockfile (and so of its SBOM).
	Deps []NPM
}

// BuildWeather pushes an image of the weather server as b describes, captures the tools the
// server announces (running it in process), writes its SPDX SBOM, and signs and attests both
// with s. It returns the image.
func (r *Registry) BuildWeather(ctx context.Context, s *Signer, b Build) (Image, error) {
	lock, err := lockfile(b.Deps)
	if err != nil {
		return Image{}, err
	}
	files := []File{
		{Path: "app/weather/weather.go", Mode: 0o644, Data: weather.Source},
		{Path: "app/package-lock.json", Mode: 0o644, Data: lock},
	}
	img, err := r.Push(ctx, b.Repo, b.Tag, []string{"/app/weather-server"}, files)
	if err != nil {
		return Image{}, err
	}
	tools, err := CaptureTools(ctx, b.Description)
	if err != nil {
		return Image{}, err
	}
	sbom, err := spdx(b.Repo+":"+b.Tag, b.Deps)
	if err != nil {
		return Image{}, err
	}
	if err := r.SignAndAttest(ctx, s, img, sbom, tools); err != nil {
		return Image{}, err
	}
	return img, nil
}

// CaptureTools runs the weather server in process with the given tool description and
// returns its tool manifest as `vetted tools capture` writes it.
func CaptureTools(ctx context.Context, description string) ([]byte, error) {
	ct, st := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := weather.NewServer(description)
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		return nil, fmt.Errorf("start the weather server: %w", err)
	}
	defer ss.Close()
	m, err := capture.Capture(ctx, capture.Transport(ct, "weather (in process)"), capture.Options{})
	if err != nil {
		return nil, fmt.Errorf("capture the weather server's tools: %w", err)
	}
	return m.Encode(), nil
}

func lockfile(deps []NPM) ([]byte, error) {
	root := map[string]any{"name": "weather", "version": "1.0.0"}
	rootDeps := map[string]string{}
	pkgs := map[string]any{"": root}
	for _, d := range deps {
		rootDeps[d.Name] = d.Version
		pkgs["node_modules/"+d.Name] = map[string]string{"version": d.Version,
			"resolved": "https://registry.npmjs.org/" + d.Name + "/-/" + d.Name + "-" + d.Version + ".tgz"}
	}
	root["dependencies"] = rootDeps
	return json.MarshalIndent(map[string]any{"name": "weather", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": pkgs}, "", "  ")
}

// spdx is an SPDX 2.3 JSON document of the image's npm packages, as syft writes for its
// lockfile.
func spdx(name string, deps []NPM) ([]byte, error) {
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		Name             string `json:"name"`
		SPDXID           string `json:"SPDXID"`
		VersionInfo      string `json:"versionInfo"`
		DownloadLocation string `json:"downloadLocation"`
		ExternalRefs     []ref  `json:"externalRefs"`
	}
	var pkgs []pkg
	for _, d := range deps {
		pkgs = append(pkgs, pkg{d.Name, "SPDXRef-Package-npm-" + d.Name, d.Version, "NOASSERTION",
			[]ref{{"PACKAGE-MANAGER", "purl", "pkg:npm/" + d.Name + "@" + d.Version}}})
	}
	return json.Marshal(map[string]any{
		"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": name,
		"documentNamespace": "https://vetted.dev/demo/spdx/" + name,
		"creationInfo":      map[string]any{"created": epoch.Format("2006-01-02T15:04:05Z"), "creators": []string{"Tool: vetted-demo"}},
		"packages":          pkgs,
	})
}
