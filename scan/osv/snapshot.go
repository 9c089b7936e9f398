package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNoMirror: the directory holds no OSV data at all (fail closed: nothing can be assessed).
var ErrNoMirror = errors.New("no OSV mirror")

// ErrCorrupt: a snapshot's files do not match its manifest, or an archive is unreadable.
var ErrCorrupt = errors.New("OSV mirror corrupt")

const (
	manifestName = "manifest.json"
	currentName  = "current"
	snapshotsDir = "snapshots"
	archiveName  = "all.zip"
	scalibrDir   = "osv-scalibr"
	// MaxArchiveBytes bounds one ecosystem archive (osv.dev's largest is well under 1 GiB).
	MaxArchiveBytes = 4 << 30
	// MaxArchiveEntries bounds the entries of one archive.
	MaxArchiveEntries = 2_000_000
)

// Manifest records what a snapshot holds. Its ID is derived from the content, so two
// snapshots with the same archives and records have the same ID.
type Manifest struct {
	ID         string           `json:"id"`
	Created    time.Time        `json:"created,omitzero"`
	Source     string           `json:"source,omitempty"`
	Ecosystems []EcosystemEntry `json:"ecosystems"`
	Loose      []FileEntry      `json:"loose,omitempty"`
}

// EcosystemEntry is one ecosystem's archive in a snapshot.
type EcosystemEntry struct {
	Name    string `json:"name"`
	Archive string `json:"archive"` // path relative to the snapshot directory
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Records int    `json:"records,omitempty"`
	// Latest is the newest "modified" time among the records, when known.
	Latest string `json:"latest,omitempty"`
	// Fetch says how Sync obtained it: "full", "incremental" or "unchanged".
	Fetch string `json:"fetch,omitempty"`
}

// FileEntry is one loose record file.
type FileEntry struct {
	Path      string `json:"path"`
	Ecosystem string `json:"ecosystem,omitempty"` // directory it sits in, if any
	SHA256    string `json:"sha256"`
}

// Snapshot is one immutable state of a mirror directory.
type Snapshot struct {
	Dir      string
	Manifest Manifest
	managed  bool // written by Sync, with a manifest to verify against
}

// ID is the snapshot's content id ("sha256:…").
func (s *Snapshot) ID() string { return s.Manifest.ID }

// Ecosystems lists the ecosystems the snapshot covers (has an archive or a record directory for).
func (s *Snapshot) Ecosystems() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range s.Manifest.Ecosystems {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e.Name)
		}
	}
	for _, f := range s.Manifest.Loose {
		if f.Ecosystem != "" && !seen[f.Ecosystem] {
			seen[f.Ecosystem] = true
			out = append(out, f.Ecosystem)
		}
	}
	sort.Strings(out)
	return out
}

// Open opens the current snapshot of a mirror directory. A directory written by Sync
// (DIR/current → DIR/snapshots/<id>) is verified against its manifest as it is read; any other
// directory is read as the osv.dev bulk layout (DIR/<Ecosystem>/all.zip), osv-scanner's offline
// layout (DIR/osv-scalibr/<Ecosystem>/all.zip) and loose *.json records, and its id is computed
// from the content.
func Open(dir string) (*Snapshot, error) {
	cur := filepath.Join(dir, currentName)
	if target, err := os.Readlink(cur); err == nil {
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		return openManaged(target)
	} else if _, statErr := os.Lstat(cur); statErr == nil {
		return nil, fmt.Errorf("osv: %w: %s is not a symbolic link", ErrCorrupt, cur)
	}
	return openPlain(dir)
}

func openManaged(dir string) (*Snapshot, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("osv: %w: snapshot %s: %v", ErrCorrupt, dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("osv: %w: snapshot %s: manifest: %v", ErrCorrupt, dir, err)
	}
	if m.ID == "" || m.ID != contentID(m) {
		return nil, fmt.Errorf("osv: %w: snapshot %s: manifest id does not match its content", ErrCorrupt, dir)
	}
	return &Snapshot{Dir: dir, Manifest: m, managed: true}, nil
}

func openPlain(dir string) (*Snapshot, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("osv: %w: %v", ErrNoMirror, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("osv: %w: %s is not a directory", ErrNoMirror, dir)
	}
	var m Manifest
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == snapshotsDir || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		parts := strings.Split(rel, "/")
		switch {
		case d.Name() == archiveName && (len(parts) == 2 || len(parts) == 3 && parts[0] == scalibrDir):
			sum, size, err := hashFile(path)
			if err != nil {
				return err
			}
			m.Ecosystems = append(m.Ecosystems, EcosystemEntry{Name: parts[len(parts)-2], Archive: rel, SHA256: sum, Size: size})
		case strings.HasSuffix(d.Name(), ".json") && d.Name() != manifestName:
			sum, _, err := hashFile(path)
			if err != nil {
				return err
			}
			fe := FileEntry{Path: rel, SHA256: sum}
			if len(parts) >= 2 && parts[0] != scalibrDir {
				fe.Ecosystem = parts[0]
			}
			m.Loose = append(m.Loose, fe)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("osv: reading mirror %s: %w", dir, err)
	}
	if len(m.Ecosystems) == 0 && len(m.Loose) == 0 {
		return nil, fmt.Errorf("osv: %w: %s holds no <Ecosystem>/all.zip and no *.json records", ErrNoMirror, dir)
	}
	m.ID = contentID(m)
	return &Snapshot{Dir: dir, Manifest: m}, nil
}

// contentID hashes what the snapshot holds: archive and loose-file names with their digests.
func contentID(m Manifest) string {
	var lines []string
	for _, e := range m.Ecosystems {
		lines = append(lines, "archive "+e.Name+" "+e.Archive+" "+e.SHA256)
	}
	for _, f := range m.Loose {
		lines = append(lines, "record "+f.Path+" "+f.SHA256)
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Entry is one raw record file read from a snapshot.
type Entry struct {
	Ecosystem string // the archive's ecosystem directory, or the loose file's directory
	Source    string // archive path + "!" + entry name, or the loose file's path
	// Data is the record's bytes. It is only valid during the call it is passed to (the buffer
	// is reused); copy it to keep it.
	Data []byte
}

// Walk calls fn for every record file of the snapshot, archive by archive, verifying each
// file against the manifest first. It stops at the first error.
func (s *Snapshot) Walk(ctx context.Context, fn func(Entry) error) error {
	return s.WalkParallel(ctx, 1, func(_ int, e Entry) error { return fn(e) })
}

// WalkParallel is Walk with the archives' entries decompressed by `workers` goroutines; fn is
// called concurrently, with the worker's number (0 ≤ worker < workers).
func (s *Snapshot) WalkParallel(ctx context.Context, workers int, fn func(worker int, e Entry) error) error {
	if workers < 1 {
		workers = 1
	}
	for _, e := range s.Manifest.Ecosystems {
		if err := s.walkArchive(ctx, e, workers, fn); err != nil {
			return err
		}
	}
	for _, f := range s.Manifest.Loose {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(s.Dir, filepath.FromSlash(f.Path))
		data, err := readLimited(path, MaxRecordBytes)
		if err != nil {
			return fmt.Errorf("osv: %w: %s: %v", ErrCorrupt, f.Path, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
			return fmt.Errorf("osv: %w: %s changed since the snapshot was opened", ErrCorrupt, f.Path)
		}
		if err := fn(0, Entry{Ecosystem: f.Ecosystem, Source: f.Path, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Snapshot) walkArchive(ctx context.Context, e EcosystemEntry, workers int, fn func(int, Entry) error) error {
	path := filepath.Join(s.Dir, filepath.FromSlash(e.Archive))
	data, err := readLimited(path, MaxArchiveBytes)
	if err != nil {
		return fmt.Errorf("osv: %w: %s: %v", ErrCorrupt, e.Archive, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != e.SHA256 {
		return fmt.Errorf("osv: %w: %s does not match the snapshot's sha256", ErrCorrupt, e.Archive)
	}
	return walkZipParallel(ctx, data, e.Archive, workers, func(w int, name string, body []byte) error {
		return fn(w, Entry{Ecosystem: e.Name, Source: e.Archive + "!" + name, Data: body})
	})
}

// walkZip calls fn with every *.json entry of a zip archive held in memory.
func walkZip(ctx context.Context, data []byte, label string, fn func(name string, body []byte) error) error {
	return walkZipParallel(ctx, data, label, 1, func(_ int, name string, body []byte) error { return fn(name, body) })
}

// walkZipParallel decompresses the archive's *.json entries with several goroutines.
func walkZipParallel(ctx context.Context, data []byte, label string, workers int, fn func(w int, name string, body []byte) error) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("osv: %w: %s: %v", ErrCorrupt, label, err)
	}
	if len(zr.File) > MaxArchiveEntries {
		return fmt.Errorf("osv: %w: %s: %d entries, limit %d", ErrCorrupt, label, len(zr.File), MaxArchiveEntries)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *zip.File, 256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			for f := range next {
				if ctx.Err() != nil {
					continue
				}
				if f.UncompressedSize64 > MaxRecordBytes {
					cancel(fmt.Errorf("osv: %w: %s!%s: %d bytes, limit %d", ErrCorrupt, label, f.Name, f.UncompressedSize64, MaxRecordBytes))
					continue
				}
				rc, err := f.Open()
				if err != nil {
					cancel(fmt.Errorf("osv: %w: %s!%s: %v", ErrCorrupt, label, f.Name, err))
					continue
				}
				buf.Reset()
				_, err = io.Copy(&buf, io.LimitReader(rc, MaxRecordBytes+1))
				rc.Close() // the checksum error surfaces from Read at EOF
				if err == nil && int64(buf.Len()) > MaxRecordBytes {
					err = fmt.Errorf("larger than %d bytes", MaxRecordBytes)
				}
				if err != nil {
					cancel(fmt.Errorf("osv: %w: %s!%s: %v", ErrCorrupt, label, f.Name, err))
					continue
				}
				if err := fn(w, f.Name, buf.Bytes()); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, f := range zr.File {
		if ctx.Err() != nil {
			break
		}
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		next <- f
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
