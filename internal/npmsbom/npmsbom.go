package npmsbom

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/pkg/cataloger/javascript"
	"github.com/anchore/syft/syft/source/directorysource"
)

// Bounds on what is unpacked from a tarball.
const (
	MaxEntries   = 100_000  // tar entries walked
	MaxFiles     = 5_000    // manifests extracted
	MaxFileBytes = 16 << 20 // one manifest
	MaxTotal     = 128 << 20
)

// ErrTarball is wrapped by errors about an unusable tarball.
var ErrTarball = errors.New("bad npm tarball")

// Result is a generated SBOM and what it cannot pin.
type Result struct {
	// SBOM is a CycloneDX JSON document.
	SBOM []byte
	// Lockfile names the lockfile found ("npm-shrinkwrap.json", "package-lock.json"), or "".
	Lockfile string
	// Unpinned lists "name@range" for each dependency named by a range only, when no lockfile
	// is shipped.
	Unpinned []string
}

// Generator builds SBOMs from npm tarballs.
type Generator struct{}

// Generate unpacks tarball's manifests into a temporary directory, catalogs them with syft's
// JavaScript catalogers and returns the SBOM and the unpinned dependencies.
func (Generator) Generate(ctx context.Context, tarball []byte) (*Result, error) {
	dir, err := os.MkdirTemp("", "vetted-npmsbom-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	root, err := unpack(tarball, dir)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	pkgJSON, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: no %s/package.json", ErrTarball, root)
	}
	for _, lf := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(dir, lf)); err == nil {
			res.Lockfile = lf
			break
		}
	}
	switch res.Lockfile {
	case "":
		if res.Unpinned, err = unpinned(pkgJSON); err != nil {
			return nil, err
		}
	case "npm-shrinkwrap.json":
		// The lockfile npm pack keeps. It has package-lock.json's format, and npm reads it
		// instead of package-lock.json when both are present; syft's lock cataloger reads
		// only files named package-lock.json, so it is cataloged under that name (else its
		// dependencies, vulnerable ones included, would silently be missing from the SBOM).
		if err := os.Rename(filepath.Join(dir, "npm-shrinkwrap.json"), filepath.Join(dir, "package-lock.json")); err != nil {
			return nil, fmt.Errorf("npmsbom: %w", err)
		}
	}
	src, err := directorysource.NewFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("npmsbom: %w", err)
	}
	cfg := syft.DefaultCreateSBOMConfig().WithoutCatalogers().WithCatalogers(
		pkgcataloging.NewCatalogerReference(javascript.NewLockCataloger(javascript.DefaultCatalogerConfig()), []string{pkgcataloging.DeclaredTag, pkgcataloging.DirectoryTag}),
		pkgcataloging.NewCatalogerReference(javascript.NewPackageCataloger(), []string{pkgcataloging.InstalledTag, pkgcataloging.DirectoryTag}),
	).WithoutFiles()
	s, err := syft.CreateSBOM(ctx, src, cfg)
	if err != nil {
		return nil, fmt.Errorf("npmsbom: catalog: %w", err)
	}
	enc, err := cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	if err != nil {
		return nil, err
	}
	if res.SBOM, err = format.Encode(*s, enc); err != nil {
		return nil, fmt.Errorf("npmsbom: encode: %w", err)
	}
	return res, nil
}

var wanted = map[string]bool{"package.json": true, "npm-shrinkwrap.json": true, "package-lock.json": true}

// unpack extracts the package root's manifests and lockfiles and the package.json of bundled
// node_modules into dir, stripping the tarball's top directory ("package/" for npm pack).
func unpack(tarball []byte, dir string) (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tarball))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTarball, err)
	}
	tr := tar.NewReader(zr)
	var root string
	var files, total int64
	for n := 0; ; n++ {
		if n >= MaxEntries {
			return "", fmt.Errorf("%w: more than %d entries", ErrTarball, MaxEntries)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrTarball, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		top, rest, ok := strings.Cut(name, "/")
		if !ok || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
			continue
		}
		if root == "" {
			root = top
		}
		if top != root || !wanted[path.Base(rest)] {
			continue
		}
		if rest != path.Base(rest) && !(path.Base(rest) == "package.json" && strings.HasPrefix(rest, "node_modules/")) {
			continue
		}
		if h.Size > MaxFileBytes {
			return "", fmt.Errorf("%w: %s is larger than %d bytes", ErrTarball, name, MaxFileBytes)
		}
		if files++; files > MaxFiles {
			return "", fmt.Errorf("%w: more than %d manifests", ErrTarball, MaxFiles)
		}
		if total += h.Size; total > MaxTotal {
			return "", fmt.Errorf("%w: manifests larger than %d bytes", ErrTarball, MaxTotal)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rest))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return "", err
		}
		data, err := io.ReadAll(io.LimitReader(tr, MaxFileBytes+1))
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrTarball, err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return "", err
		}
	}
	if root == "" {
		return "", fmt.Errorf("%w: no files", ErrTarball)
	}
	return root, nil
}

var exactRE = regexp.MustCompile(`^=?v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)

// unpinned lists the dependencies (and optional dependencies) of package.json that are not
// one exact version: ranges, tags, URLs and git references alike.
func unpinned(pkgJSON []byte) ([]string, error) {
	var p struct {
		Dependencies         map[string]string `json:"dependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
	}
	if err := json.Unmarshal(pkgJSON, &p); err != nil {
		return nil, fmt.Errorf("%w: package.json: %v", ErrTarball, err)
	}
	var out []string
	for _, deps := range []map[string]string{p.Dependencies, p.OptionalDependencies} {
		for name, spec := range deps {
			if !exactRE.MatchString(strings.TrimSpace(spec)) {
				out = append(out, name+"@"+spec)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// GenerateNPMSBOM implements registry.NPMSBOMGenerator.
func (g Generator) GenerateNPMSBOM(ctx context.Context, tarball []byte) ([]byte, []string, error) {
	r, err := g.Generate(ctx, tarball)
	if err != nil {
		return nil, nil, err
	}
	return r.SBOM, r.Unpinned, nil
}
