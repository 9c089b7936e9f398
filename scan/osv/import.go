package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ErrBadSource: an import source is neither a directory, a .zip archive nor a .json record.
var ErrBadSource = errors.New("not an OSV source")

// ImportResult says what Import did.
type ImportResult struct {
	// Snapshot is the current snapshot after the import.
	Snapshot *Snapshot
	// Previous is the id of the snapshot that was current before ("" for none).
	Previous string
	// Changed is false when the import added nothing new (the snapshot stays).
	Changed bool
	// Records counts the imported records by ecosystem.
	Records map[string]int
	// Unsorted names the records that name no ecosystem (no affected package): they cover
	// nothing and are left out.
	Unsorted []string
}

// Import adds OSV records — loose *.json files, directories of them (searched
// recursively), or zip archives such as osv.dev's all.zip — to the mirror in dir as a new
// snapshot, sorted by the ecosystem each record's affected packages name ("Debian:12" goes to
// Debian). A record naming several ecosystems goes to each. Records merge into the current
// snapshot's archives (a record with the same id is replaced); other ecosystems are kept.
// Every record is decoded and checked first: one invalid record fails the import and nothing
// is written. The new snapshot is swapped in atomically, as Sync does. A directory in the
// plain layout (archives and loose records, no snapshots yet) is folded into the first
// import, so that nothing it covered is lost.
func Import(ctx context.Context, dir string, sources []string) (*ImportResult, error) {
	if len(sources) == 0 {
		return nil, errors.New("osv: import: no sources")
	}
	fresh := map[string]map[string][]byte{}
	res := &ImportResult{Records: map[string]int{}}
	add := func(name string, body []byte) error {
		rec, err := DecodeRecord(body)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		ecos := recordEcosystems(rec)
		if len(ecos) == 0 {
			res.Unsorted = append(res.Unsorted, name)
			return nil
		}
		for _, eco := range ecos {
			if fresh[eco] == nil {
				fresh[eco] = map[string][]byte{}
			}
			if old, ok := fresh[eco][rec.ID]; ok {
				if prev, err := DecodeRecord(old); err == nil && olderThan(rec.Modified, prev.Modified) {
					continue
				}
			}
			fresh[eco][rec.ID] = bytes.Clone(body)
		}
		return nil
	}

	var prev *Snapshot
	var base map[string]string // ecosystem → archive path to merge into
	switch p, err := Open(dir); {
	case err == nil && p.managed:
		prev = p
		base = archivePaths(p)
	case err == nil:
		// The plain layout: its archives are the base, its loose records are imported.
		base = archivePaths(p)
		for _, f := range p.Manifest.Loose {
			body, err := readLimited(filepath.Join(p.Dir, filepath.FromSlash(f.Path)), MaxRecordBytes+1)
			if err != nil {
				return nil, fmt.Errorf("osv: import: %w", err)
			}
			if err := add(f.Path, body); err != nil {
				return nil, fmt.Errorf("osv: import: the mirror's own record %w", err)
			}
		}
	case errors.Is(err, ErrNoMirror):
	default:
		return nil, fmt.Errorf("osv: import: %w", err)
	}
	for _, src := range sources {
		if err := readSource(ctx, src, add); err != nil {
			return nil, fmt.Errorf("osv: import: %w", err)
		}
	}
	if len(fresh) == 0 {
		return nil, fmt.Errorf("osv: import: %w: no record in %s names an ecosystem (affected[].package.ecosystem)", ErrInvalidRecord, strings.Join(sources, ", "))
	}

	snapRoot := filepath.Join(dir, snapshotsDir)
	if err := os.MkdirAll(snapRoot, 0o755); err != nil {
		return nil, fmt.Errorf("osv: import: %w", err)
	}
	tmp, err := os.MkdirTemp(snapRoot, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("osv: import: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	ecos := map[string]bool{}
	for e := range base {
		ecos[e] = true
	}
	for e := range fresh {
		ecos[e] = true
	}
	names := make([]string, 0, len(ecos))
	for e := range ecos {
		names = append(names, e)
	}
	sort.Strings(names)
	m := Manifest{Created: time.Now().UTC(), Source: "import"}
	for _, eco := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		old := emptyArchive()
		if p := base[eco]; p != "" {
			if old, err = readLimited(p, MaxArchiveBytes); err != nil {
				return nil, fmt.Errorf("osv: import: %s: %w", eco, err)
			}
		}
		how, body, recs := "unchanged", old, map[string]string(nil)
		if len(fresh[eco]) > 0 {
			how = "import"
			body, recs, err = rebuildArchive(old, fresh[eco], nil)
			res.Records[eco] = len(fresh[eco])
		} else {
			recs, err = verifyArchive(ctx, old)
		}
		if err != nil {
			return nil, fmt.Errorf("osv: import: %s: %w", eco, err)
		}
		dst := filepath.Join(tmp, eco)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return nil, fmt.Errorf("osv: import: %w", err)
		}
		entry, err := writeArchive(dst, eco, body, recs, how)
		if err != nil {
			return nil, err
		}
		m.Ecosystems = append(m.Ecosystems, entry)
	}
	m.ID = contentID(m)
	if prev != nil {
		res.Previous = prev.ID()
		if prev.ID() == m.ID {
			res.Snapshot = prev
			return res, nil
		}
	}
	snap, err := commitSnapshot(dir, tmp, m)
	if err != nil {
		return nil, fmt.Errorf("osv: import: %w", err)
	}
	res.Snapshot, res.Changed = snap, true
	return res, nil
}

// recordEcosystems are the ecosystems a record's affected packages name, without their
// release suffix ("Debian:12" → "Debian"), that can be a directory name.
func recordEcosystems(r *Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range r.Affected {
		eco, _, _ := strings.Cut(a.Package.Ecosystem, ":")
		eco = strings.TrimSpace(eco)
		if eco == "" || seen[eco] || !validEcosystemDir(eco) {
			continue
		}
		seen[eco] = true
		out = append(out, eco)
	}
	sort.Strings(out)
	return out
}

func validEcosystemDir(eco string) bool {
	return len(eco) <= 64 && !strings.ContainsAny(eco, `/\`+"\x00") && !strings.HasPrefix(eco, ".") &&
		eco != snapshotsDir && eco != currentName && eco != scalibrDir
}

// archivePaths maps each ecosystem of s to its archive file.
func archivePaths(s *Snapshot) map[string]string {
	out := map[string]string{}
	for _, e := range s.Manifest.Ecosystems {
		out[e.Name] = filepath.Join(s.Dir, filepath.FromSlash(e.Archive))
	}
	return out
}

func emptyArchive() []byte {
	var b bytes.Buffer
	zip.NewWriter(&b).Close()
	return b.Bytes()
}

// readSource calls add with every record of src: a *.zip archive, a *.json file, or a
// directory searched recursively for *.json files (hidden directories skipped).
func readSource(ctx context.Context, src string, add func(name string, body []byte) error) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	switch {
	case st.IsDir():
		return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != src && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(d.Name(), ".json") {
				return nil
			}
			body, err := readLimited(p, MaxRecordBytes+1)
			if err != nil {
				return err
			}
			return add(p, body)
		})
	case strings.HasSuffix(src, ".zip"):
		body, err := readLimited(src, MaxArchiveBytes)
		if err != nil {
			return err
		}
		return walkZip(ctx, body, src, func(name string, data []byte) error { return add(src+"!"+name, data) })
	case strings.HasSuffix(src, ".json"):
		body, err := readLimited(src, MaxRecordBytes+1)
		if err != nil {
			return err
		}
		return add(src, body)
	}
	return fmt.Errorf("%w: %s: want a directory, a .zip archive or a .json record", ErrBadSource, src)
}

// Counts is how many records the snapshot holds per ecosystem. Records in no ecosystem
// directory (loose files at the top of a plain mirror) are counted under "": they cover no
// ecosystem.
func (s *Snapshot) Counts() map[string]int {
	out := map[string]int{}
	for _, e := range s.Manifest.Ecosystems {
		n := e.Records
		if n == 0 {
			if zr, err := zip.OpenReader(filepath.Join(s.Dir, filepath.FromSlash(e.Archive))); err == nil {
				for _, f := range zr.File {
					if strings.HasSuffix(f.Name, ".json") {
						n++
					}
				}
				zr.Close()
			}
		}
		out[e.Name] += n
	}
	for _, f := range s.Manifest.Loose {
		out[f.Ecosystem]++
	}
	return out
}
