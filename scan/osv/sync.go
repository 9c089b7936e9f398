package osv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is osv.dev's public bucket.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// ErrFetch marks a download that failed or did not verify; the current snapshot is untouched.
var ErrFetch = errors.New("OSV download failed")

type syncConfig struct {
	transport      http.RoundTripper
	baseURL        string
	ecosystems     []string
	logger         *slog.Logger
	now            func() time.Time
	keep           int
	maxIncremental int
	userAgent      string
}

// SyncOption configures Sync.
type SyncOption func(*syncConfig) error

// WithTransport sets the HTTP transport for every download (the guarded transport in
// production). Default: http.DefaultTransport.
func WithTransport(rt http.RoundTripper) SyncOption {
	return func(c *syncConfig) error {
		if rt == nil {
			return errors.New("osv: nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithBaseURL sets the bucket or private mirror to download from (default DefaultBaseURL).
func WithBaseURL(u string) SyncOption {
	return func(c *syncConfig) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("osv: base URL %q: want http(s)://host[/path]", u)
		}
		c.baseURL = strings.TrimRight(u, "/")
		return nil
	}
}

// WithEcosystems limits the sync to these ecosystems (default: every ecosystem listed in the
// bucket's ecosystems.txt).
func WithEcosystems(ecos ...string) SyncOption {
	return func(c *syncConfig) error {
		for _, e := range ecos {
			if e == "" || strings.ContainsAny(e, `/\`) || e == "." || e == ".." {
				return fmt.Errorf("osv: invalid ecosystem name %q", e)
			}
		}
		c.ecosystems = append([]string(nil), ecos...)
		return nil
	}
}

// WithSyncLogger sets the logger (default: discard).
func WithSyncLogger(l *slog.Logger) SyncOption {
	return func(c *syncConfig) error {
		if l == nil {
			return errors.New("osv: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithSyncClock sets the clock for the manifest's creation time.
func WithSyncClock(now func() time.Time) SyncOption {
	return func(c *syncConfig) error {
		if now == nil {
			return errors.New("osv: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithKeep sets how many snapshots to keep (≥ 2: the current and the one before, which the
// re-scan diffs against). Default 3.
func WithKeep(n int) SyncOption {
	return func(c *syncConfig) error {
		if n < 2 {
			return fmt.Errorf("osv: keep must be ≥ 2, got %d", n)
		}
		c.keep = n
		return nil
	}
}

// WithMaxIncremental sets how many changed records of one ecosystem are fetched one by one
// before Sync downloads the whole archive instead (default 2000; 0 disables incremental sync).
func WithMaxIncremental(n int) SyncOption {
	return func(c *syncConfig) error {
		if n < 0 {
			return fmt.Errorf("osv: max incremental must be ≥ 0, got %d", n)
		}
		c.maxIncremental = n
		return nil
	}
}

// SyncResult says what Sync did.
type SyncResult struct {
	Snapshot *Snapshot
	Previous string // id of the snapshot before, "" if none
	Changed  bool   // the current snapshot is a new one
}

// Sync downloads the mirror's ecosystems into a new snapshot under dir and makes it current
// atomically. Every archive is verified (transport checksums when the server sends them,
// length, zip integrity, every record decodes); any failure leaves the current snapshot as it
// was. Where the previous snapshot has an ecosystem and the bucket's modified_id.csv shows few
// changes, only the changed records are fetched.
func Sync(ctx context.Context, dir string, opts ...SyncOption) (*SyncResult, error) {
	cfg := syncConfig{
		transport: http.DefaultTransport, baseURL: DefaultBaseURL, now: time.Now,
		logger: slog.New(slog.DiscardHandler), keep: 3, maxIncremental: 2000, userAgent: "vetted-osv-sync",
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &syncer{cfg: cfg, client: &http.Client{Transport: cfg.transport, Timeout: 30 * time.Minute}, dir: dir}
	return s.run(ctx)
}

type syncer struct {
	cfg    syncConfig
	client *http.Client
	dir    string
}

func (s *syncer) run(ctx context.Context) (*SyncResult, error) {
	snapRoot := filepath.Join(s.dir, snapshotsDir)
	if err := os.MkdirAll(snapRoot, 0o755); err != nil {
		return nil, fmt.Errorf("osv: sync: %w", err)
	}
	var prev *Snapshot
	if p, err := Open(s.dir); err == nil && p.managed {
		prev = p
	}
	ecos := s.cfg.ecosystems
	if len(ecos) == 0 {
		var err error
		if ecos, err = s.listEcosystems(ctx); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(snapRoot, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("osv: sync: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	m := Manifest{Created: s.cfg.now().UTC(), Source: s.cfg.baseURL}
	for _, eco := range ecos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pe *EcosystemEntry
		if prev != nil {
			for i := range prev.Manifest.Ecosystems {
				if prev.Manifest.Ecosystems[i].Name == eco {
					pe = &prev.Manifest.Ecosystems[i]
				}
			}
		}
		entry, err := s.syncEcosystem(ctx, eco, prev, pe, tmp)
		if err != nil {
			return nil, err
		}
		m.Ecosystems = append(m.Ecosystems, entry)
	}
	m.ID = contentID(m)
	res := &SyncResult{}
	if prev != nil {
		res.Previous = prev.ID()
		if prev.ID() == m.ID {
			res.Snapshot = prev
			s.cfg.logger.Info("OSV mirror unchanged", "snapshot", m.ID)
			return res, nil
		}
	}
	snap, err := commitSnapshot(s.dir, tmp, m)
	if err != nil {
		return nil, fmt.Errorf("osv: sync: %w", err)
	}
	name := filepath.Base(snap.Dir)
	res.Snapshot, res.Changed = snap, true
	s.cfg.logger.Info("OSV snapshot swapped in", "snapshot", m.ID, "previous", res.Previous)
	s.prune(snapRoot, name, res.Previous)
	return res, nil
}

// commitSnapshot writes m into the staged snapshot directory tmp (under DIR/snapshots),
// renames it to its content name and makes it current with an atomic swap of DIR/current.
// A snapshot with the same content that already exists is reused.
func commitSnapshot(dir, tmp string, m Manifest) (*Snapshot, error) {
	snapRoot := filepath.Join(dir, snapshotsDir)
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := writeFileSync(filepath.Join(tmp, manifestName), data); err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(m.ID, "sha256:")[:24]
	final := filepath.Join(snapRoot, name)
	if _, err := os.Stat(final); err == nil {
		os.RemoveAll(tmp)
	} else if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	syncDir(snapRoot)
	if err := swapCurrent(dir, filepath.Join(snapshotsDir, name)); err != nil {
		return nil, err
	}
	return openManaged(final)
}

// swapCurrent points DIR/current at target with an atomic rename of a new symbolic link.
func swapCurrent(dir, target string) error {
	tmpLink := filepath.Join(dir, fmt.Sprintf(".current-%d", time.Now().UnixNano()))
	if err := os.Symlink(target, tmpLink); err != nil {
		return fmt.Errorf("osv: sync: %w", err)
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, currentName)); err != nil {
		os.Remove(tmpLink)
		return fmt.Errorf("osv: sync: swap current: %w", err)
	}
	syncDir(dir)
	return nil
}

// prune removes the oldest snapshots beyond keep, never the current or previous one.
func (s *syncer) prune(root, current, previous string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type snap struct {
		name string
		mod  time.Time
	}
	var snaps []snap
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		snaps = append(snaps, snap{e.Name(), info.ModTime()})
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].mod.After(snaps[j].mod) })
	prevName := strings.TrimPrefix(previous, "sha256:")
	if len(prevName) > 24 {
		prevName = prevName[:24]
	}
	kept := 0
	for _, sn := range snaps {
		if sn.name == current || sn.name == prevName || kept < s.cfg.keep {
			kept++
			continue
		}
		os.RemoveAll(filepath.Join(root, sn.name))
	}
}

func (s *syncer) url(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.PathEscape(p)
	}
	return s.cfg.baseURL + "/" + strings.Join(esc, "/")
}

func (s *syncer) listEcosystems(ctx context.Context) ([]string, error) {
	body, _, err := s.get(ctx, s.url("ecosystems.txt"), 1<<20)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.ContainsAny(l, `/\`) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("osv: %w: ecosystems.txt lists no ecosystem", ErrFetch)
	}
	return out, nil
}

// errNotFound is a 404, which for modified_id.csv only means "no incremental sync".
var errNotFound = errors.New("not found")

// get fetches a URL into memory, up to limit bytes, verifying Content-Length and any
// x-goog-hash checksums the server sends.
func (s *syncer) get(ctx context.Context, u string, limit int64) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("osv: %w: %v", ErrFetch, err)
	}
	req.Header.Set("User-Agent", s.cfg.userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %w", ErrFetch, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %w", ErrFetch, u, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %s", ErrFetch, u, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %d bytes, limit %d", ErrFetch, u, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %w", ErrFetch, u, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: larger than %d bytes", ErrFetch, u, limit)
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: got %d of %d bytes", ErrFetch, u, len(body), resp.ContentLength)
	}
	if err := checkGoogHash(resp.Header, body); err != nil {
		return nil, nil, fmt.Errorf("osv: %w: GET %s: %v", ErrFetch, u, err)
	}
	return body, resp.Header, nil
}

// checkGoogHash verifies the crc32c and md5 digests Google Cloud Storage sends in x-goog-hash.
func checkGoogHash(h http.Header, body []byte) error {
	for _, v := range h.Values("X-Goog-Hash") {
		for _, part := range strings.Split(v, ",") {
			algo, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			want, err := base64.StdEncoding.DecodeString(val)
			if err != nil {
				return fmt.Errorf("x-goog-hash %s: %v", algo, err)
			}
			switch algo {
			case "crc32c":
				var got [4]byte
				binary.BigEndian.PutUint32(got[:], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
				if !bytes.Equal(got[:], want) {
					return errors.New("crc32c checksum mismatch")
				}
			case "md5":
				got := md5.Sum(body)
				if !bytes.Equal(got[:], want) {
					return errors.New("md5 checksum mismatch")
				}
			}
		}
	}
	return nil
}

// index of one archive: record id → modified, as stored beside the archive.
const recordsName = "records.csv"

func (s *syncer) syncEcosystem(ctx context.Context, eco string, prev *Snapshot, pe *EcosystemEntry, tmp string) (EcosystemEntry, error) {
	dst := filepath.Join(tmp, eco)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return EcosystemEntry{}, fmt.Errorf("osv: sync: %w", err)
	}
	if pe != nil && s.cfg.maxIncremental > 0 {
		entry, ok, err := s.incremental(ctx, eco, prev, pe, dst)
		if err != nil {
			return EcosystemEntry{}, err
		}
		if ok {
			return entry, nil
		}
	}
	body, _, err := s.get(ctx, s.url(eco, archiveName), MaxArchiveBytes)
	if err != nil {
		return EcosystemEntry{}, err
	}
	recs, err := verifyArchive(ctx, body)
	if err != nil {
		return EcosystemEntry{}, fmt.Errorf("osv: %w: %s/all.zip: %w", ErrFetch, eco, err)
	}
	s.cfg.logger.Info("OSV archive downloaded", "ecosystem", eco, "bytes", len(body), "records", len(recs))
	return writeArchive(dst, eco, body, recs, "full")
}

// incremental tries to build the ecosystem's archive from the previous one plus the records
// modified_id.csv says changed. ok is false when it cannot (no csv, too many changes).
func (s *syncer) incremental(ctx context.Context, eco string, prev *Snapshot, pe *EcosystemEntry, dst string) (EcosystemEntry, bool, error) {
	csv, _, err := s.get(ctx, s.url(eco, "modified_id.csv"), 256<<20)
	if errors.Is(err, errNotFound) {
		return EcosystemEntry{}, false, nil
	}
	if err != nil {
		return EcosystemEntry{}, false, err
	}
	remote, err := parseModifiedCSV(csv)
	if err != nil {
		return EcosystemEntry{}, false, fmt.Errorf("osv: %w: %s/modified_id.csv: %v", ErrFetch, eco, err)
	}
	prevDir := filepath.Join(prev.Dir, filepath.Dir(filepath.FromSlash(pe.Archive)))
	local, err := readRecordsCSV(filepath.Join(prevDir, recordsName))
	if err != nil {
		return EcosystemEntry{}, false, nil // no index of the old archive: download in full
	}
	var changed []string
	for id, mod := range remote {
		if local[id] != mod {
			changed = append(changed, id)
		}
	}
	removed := map[string]bool{}
	for id := range local {
		if _, ok := remote[id]; !ok {
			removed[id] = true
		}
	}
	if len(changed)+len(removed) > s.cfg.maxIncremental {
		return EcosystemEntry{}, false, nil
	}
	oldZip, err := readLimited(filepath.Join(prev.Dir, filepath.FromSlash(pe.Archive)), MaxArchiveBytes)
	if err != nil {
		return EcosystemEntry{}, false, fmt.Errorf("osv: %w: previous %s archive: %v", ErrCorrupt, eco, err)
	}
	if sum := sha256.Sum256(oldZip); hex.EncodeToString(sum[:]) != pe.SHA256 {
		return EcosystemEntry{}, false, fmt.Errorf("osv: %w: previous %s archive does not match its manifest", ErrCorrupt, eco)
	}
	if len(changed) == 0 && len(removed) == 0 {
		e, err := writeArchive(dst, eco, oldZip, local, "unchanged")
		return e, err == nil, err
	}
	sort.Strings(changed)
	fresh, err := s.fetchRecords(ctx, eco, changed, remote)
	if err != nil {
		return EcosystemEntry{}, false, err
	}
	body, recs, err := rebuildArchive(oldZip, fresh, removed)
	if err != nil {
		return EcosystemEntry{}, false, fmt.Errorf("osv: %w: rebuilding %s archive: %v", ErrCorrupt, eco, err)
	}
	s.cfg.logger.Info("OSV archive updated incrementally", "ecosystem", eco, "changed", len(changed), "removed", len(removed))
	e, err := writeArchive(dst, eco, body, recs, "incremental")
	return e, err == nil, err
}

func (s *syncer) fetchRecords(ctx context.Context, eco string, ids []string, remote map[string]string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			body, _, err := s.get(ctx, s.url(eco, id+".json"), MaxRecordBytes)
			if err == nil {
				var rec *Record
				if rec, err = DecodeRecord(body); err == nil {
					switch {
					case rec.ID != id:
						err = fmt.Errorf("osv: %w: %s/%s.json holds record %s", ErrFetch, eco, id, rec.ID)
					case olderThan(rec.Modified, remote[id]):
						err = fmt.Errorf("osv: %w: %s/%s.json modified %s, older than modified_id.csv's %s", ErrFetch, eco, id, rec.Modified, remote[id])
					}
				} else {
					err = fmt.Errorf("osv: %w: %s/%s.json: %w", ErrFetch, eco, id, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out[id] = body
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// olderThan reports whether timestamp a is before b, when both parse.
func olderThan(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && ta.Before(tb)
}

// verifyArchive checks a downloaded archive: a readable zip whose every *.json entry is a
// valid OSV record. It returns id → modified.
func verifyArchive(ctx context.Context, body []byte) (map[string]string, error) {
	recs := map[string]string{}
	err := walkZip(ctx, body, "all.zip", func(name string, data []byte) error {
		rec, err := DecodeRecord(data)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		recs[rec.ID] = rec.Modified
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("archive holds no records")
	}
	return recs, nil
}

// rebuildArchive copies the old archive's entries (compressed, as they are) except removed and
// replaced ones, and adds the fresh records.
func rebuildArchive(old []byte, fresh map[string][]byte, removed map[string]bool) ([]byte, map[string]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(old), int64(len(old)))
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		id := strings.TrimSuffix(filepath.Base(f.Name), ".json")
		if removed[id] {
			continue
		}
		if _, replaced := fresh[id]; replaced {
			continue
		}
		if err := zw.Copy(f); err != nil {
			return nil, nil, err
		}
	}
	ids := make([]string, 0, len(fresh))
	for id := range fresh {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		w, err := zw.Create(id + ".json")
		if err != nil {
			return nil, nil, err
		}
		if _, err := w.Write(fresh[id]); err != nil {
			return nil, nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, nil, err
	}
	// Verify the result as if it had been downloaded.
	recs, err := verifyArchive(context.Background(), buf.Bytes())
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), recs, nil
}

func writeArchive(dst, eco string, body []byte, recs map[string]string, how string) (EcosystemEntry, error) {
	if err := writeFileSync(filepath.Join(dst, archiveName), body); err != nil {
		return EcosystemEntry{}, fmt.Errorf("osv: sync: %w", err)
	}
	if err := writeFileSync(filepath.Join(dst, recordsName), formatRecordsCSV(recs)); err != nil {
		return EcosystemEntry{}, fmt.Errorf("osv: sync: %w", err)
	}
	sum := sha256.Sum256(body)
	latest := ""
	for _, m := range recs {
		if m > latest {
			latest = m
		}
	}
	return EcosystemEntry{
		Name: eco, Archive: eco + "/" + archiveName, SHA256: hex.EncodeToString(sum[:]),
		Size: int64(len(body)), Records: len(recs), Latest: latest, Fetch: how,
	}, nil
}

// parseModifiedCSV parses osv.dev's modified_id.csv: "<modified>,<id>" per line (the root
// file's "<ecosystem>/<id>" form is accepted too).
func parseModifiedCSV(data []byte) (map[string]string, error) { return parseCSV(data, true) }

func parseCSV(data []byte, strictTime bool) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			continue
		}
		mod, id, ok := strings.Cut(l, ",")
		if !ok || mod == "" || id == "" {
			return nil, fmt.Errorf("line %d: want <modified>,<id>", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, mod); strictTime && err != nil {
			return nil, fmt.Errorf("line %d: modified time %q: %v", line, mod, err)
		}
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			id = id[i+1:]
		}
		out[id] = mod
	}
	return out, sc.Err()
}

func formatRecordsCSV(recs map[string]string) []byte {
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b bytes.Buffer
	for _, id := range ids {
		b.WriteString(recs[id] + "," + id + "\n")
	}
	return b.Bytes()
}

func readRecordsCSV(path string) (map[string]string, error) {
	data, err := readLimited(path, 256<<20)
	if err != nil {
		return nil, err
	}
	return parseCSV(data, false)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ValidateSyncOption applies one option to a scratch configuration and returns its error, so
// that a CLI can report bad flags before starting.
func ValidateSyncOption(o SyncOption) error {
	var c syncConfig
	return o(&c)
}
