package pypisbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
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
	"github.com/anchore/syft/syft/pkg/cataloger/python"
	"github.com/anchore/syft/syft/source/directorysource"

	"github.com/vetted-dev/vetted/attest/mcpb"
	"github.com/vetted-dev/vetted/registry"
)

// Bounds on what is unpacked.
const (
	MaxEntries   = 200_000  // archive entries walked
	MaxFiles     = 10_000   // manifests extracted
	MaxFileBytes = 16 << 20 // one manifest
	MaxTotal     = 256 << 20
)

// ErrArchive is wrapped by errors about an unusable distribution or bundle.
var ErrArchive = errors.New("bad distribution archive")

// lockNames are the lock files whose presence pins what installs.
var lockRE = regexp.MustCompile(`(^|/)([^/]*requirements[^/]*\.txt|uv\.lock|poetry\.lock|Pipfile\.lock|pdm\.lock|pylock(\.[^/]+)?\.toml|package-lock\.json|npm-shrinkwrap\.json)$`)

// wanted reports whether an archive member is read: manifests and lock files.
func wanted(name string) bool {
	base := path.Base(name)
	switch {
	case lockRE.MatchString(name):
		return true
	case base == "METADATA" && strings.HasSuffix(path.Dir(name), ".dist-info"):
		return true
	case base == "PKG-INFO" && (strings.Count(name, "/") <= 1 || strings.HasSuffix(path.Dir(name), ".egg-info")):
		return true
	case base == "pyproject.toml" && strings.Count(name, "/") <= 1:
		return true
	case base == "package.json" && (name == "package.json" || strings.Contains(name, "node_modules/")):
		return true
	}
	return false
}

// Result is a generated SBOM and what it cannot pin.
type Result struct {
	SBOM []byte
	// Lockfiles are the lock files found.
	Lockfiles []string
	// Unpinned lists requirements of the distributions' own metadata (Requires-Dist,
	// pyproject dependencies) that are not one exact version, when no lock file is shipped.
	Unpinned []string
}

// Generator builds SBOMs from verified distributions and bundles.
type Generator struct{}

// GeneratePyPISBOM implements registry.PyPISBOMGenerator.
func (g Generator) GeneratePyPISBOM(ctx context.Context, files []registry.PyPIFilePin) ([]byte, []string, error) {
	r, err := g.Generate(ctx, files)
	if err != nil {
		return nil, nil, err
	}
	return r.SBOM, r.Unpinned, nil
}

// Generate unpacks each file's manifests into its own directory and catalogs them.
func (Generator) Generate(ctx context.Context, files []registry.PyPIFilePin) (*Result, error) {
	dir, err := os.MkdirTemp("", "vetted-pypisbom-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	u := &unpacker{dir: dir}
	var requires []string
	for i, f := range files {
		sub := fmt.Sprintf("f%d", i)
		switch {
		case strings.HasSuffix(f.Filename, ".whl"), strings.HasSuffix(f.Filename, ".zip"), strings.HasSuffix(f.Filename, ".mcpb"):
			err = u.zip(f.Data, sub)
		case strings.HasSuffix(f.Filename, ".tar.gz"):
			err = u.tarGz(f.Data, sub)
		default:
			err = fmt.Errorf("%w: %s is neither a wheel, an sdist nor a bundle", ErrArchive, f.Filename)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Filename, err)
		}
	}
	res := &Result{Lockfiles: u.locks}
	for _, m := range u.metadata {
		requires = append(requires, requiresDist(m)...)
	}
	for _, p := range u.pyprojects {
		requires = append(requires, pyprojectDeps(p)...)
	}
	// Exact pins of the package's own metadata are scanned too: syft reads them from a
	// requirements file written here.
	var pinned []string
	seen := map[string]bool{}
	for _, r := range requires {
		if seen[r] {
			continue
		}
		seen[r] = true
		if name, ver, ok := exactPin(r); ok {
			pinned = append(pinned, name+"=="+ver)
		} else if len(u.locks) == 0 {
			res.Unpinned = append(res.Unpinned, r)
		}
	}
	sort.Strings(res.Unpinned)
	if len(pinned) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "metadata-requirements.txt"), []byte(strings.Join(pinned, "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	src, err := directorysource.NewFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("pypisbom: %w", err)
	}
	tags := []string{pkgcataloging.DeclaredTag, pkgcataloging.DirectoryTag}
	cfg := syft.DefaultCreateSBOMConfig().WithoutCatalogers().WithCatalogers(
		pkgcataloging.NewCatalogerReference(python.NewPackageCataloger(python.DefaultCatalogerConfig()), tags),
		pkgcataloging.NewCatalogerReference(python.NewInstalledPackageCataloger(), []string{pkgcataloging.InstalledTag, pkgcataloging.DirectoryTag}),
		pkgcataloging.NewCatalogerReference(javascript.NewLockCataloger(javascript.DefaultCatalogerConfig()), tags),
		pkgcataloging.NewCatalogerReference(javascript.NewPackageCataloger(), []string{pkgcataloging.InstalledTag, pkgcataloging.DirectoryTag}),
	).WithoutFiles()
	s, err := syft.CreateSBOM(ctx, src, cfg)
	if err != nil {
		return nil, fmt.Errorf("pypisbom: catalog: %w", err)
	}
	enc, err := cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	if err != nil {
		return nil, err
	}
	if res.SBOM, err = format.Encode(*s, enc); err != nil {
		return nil, fmt.Errorf("pypisbom: encode: %w", err)
	}
	return res, nil
}

type unpacker struct {
	dir                  string
	files, total         int64
	locks                []string
	metadata, pyprojects [][]byte
}

// keep writes one wanted member under dir/sub, after the path checks.
func (u *unpacker) keep(sub, name string, size int64, r io.Reader) error {
	if err := mcpb.CheckPath(name); err != nil {
		return fmt.Errorf("%w: %v", ErrArchive, err)
	}
	if !wanted(name) {
		return nil
	}
	if size > MaxFileBytes {
		return fmt.Errorf("%w: %s is larger than %d bytes", ErrArchive, name, MaxFileBytes)
	}
	if u.files++; u.files > MaxFiles {
		return fmt.Errorf("%w: more than %d manifests", ErrArchive, MaxFiles)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrArchive, name, err)
	}
	if int64(len(data)) > MaxFileBytes {
		return fmt.Errorf("%w: %s is larger than %d bytes", ErrArchive, name, MaxFileBytes)
	}
	if u.total += int64(len(data)); u.total > MaxTotal {
		return fmt.Errorf("%w: manifests larger than %d bytes", ErrArchive, MaxTotal)
	}
	base := path.Base(name)
	switch {
	case lockRE.MatchString(name):
		u.locks = append(u.locks, name)
	case base == "METADATA" || base == "PKG-INFO":
		if !strings.Contains(name, "node_modules/") && !strings.Contains(name, "site-packages/") && !strings.Contains(name, "lib/") {
			u.metadata = append(u.metadata, data)
		}
	case base == "pyproject.toml":
		u.pyprojects = append(u.pyprojects, data)
	}
	dst := filepath.Join(u.dir, sub, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o600)
}

func (u *unpacker) zip(data []byte, sub string) error {
	zr, err := mcpb.OpenZip(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrArchive, err)
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !wanted(f.Name) {
			continue
		}
		if !f.Mode().IsRegular() {
			continue
		}
		if f.UncompressedSize64 > MaxFileBytes {
			return fmt.Errorf("%w: %s is larger than %d bytes", ErrArchive, f.Name, MaxFileBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrArchive, f.Name, err)
		}
		err = u.keep(sub, f.Name, int64(f.UncompressedSize64), rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// tarGz reads an sdist: NAME-VERSION/… with the top directory stripped.
func (u *unpacker) tarGz(data []byte, sub string) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrArchive, err)
	}
	tr := tar.NewReader(zr)
	for n := 0; ; n++ {
		if n >= MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrArchive, MaxEntries)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrArchive, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		_, rest, ok := strings.Cut(name, "/")
		if !ok || rest == "" {
			continue
		}
		if err := u.keep(sub, rest, h.Size, tr); err != nil {
			return err
		}
	}
}

// requiresDist returns the Requires-Dist values of a METADATA/PKG-INFO document (without
// environment markers that only select extras).
func requiresDist(meta []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(meta))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // the headers end; the description follows
		}
		if v, ok := strings.CutPrefix(line, "Requires-Dist:"); ok {
			v = strings.TrimSpace(v)
			if i := strings.Index(v, ";"); i >= 0 {
				if strings.Contains(v[i:], "extra ==") {
					continue // an optional extra's requirement
				}
				v = strings.TrimSpace(v[:i])
			}
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

var (
	depsArrayRE = regexp.MustCompile(`(?s)\[project\][^\[]*?\ndependencies\s*=\s*\[(.*?)\]`)
	quotedRE    = regexp.MustCompile(`"([^"]+)"|'([^']+)'`)
	exactRE     = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:\(\s*)?===?\s*([0-9][0-9A-Za-z.+!-]*)\s*\)?$`)
)

// pyprojectDeps returns [project].dependencies of a pyproject.toml (a shallow reading:
// the array of strings that follows the key).
func pyprojectDeps(p []byte) []string {
	m := depsArrayRE.FindSubmatch(p)
	if m == nil {
		return nil
	}
	var out []string
	for _, q := range quotedRE.FindAllSubmatch(m[1], -1) {
		v := string(q[1]) + string(q[2])
		if i := strings.Index(v, ";"); i >= 0 {
			v = v[:i]
		}
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// exactPin reports whether a requirement names one exact version ("name==1.2.3").
func exactPin(req string) (name, version string, ok bool) {
	m := exactRE.FindStringSubmatch(strings.TrimSpace(req))
	if m == nil || strings.Contains(m[2], "*") {
		return "", "", false
	}
	return m[1], m[2], true
}
