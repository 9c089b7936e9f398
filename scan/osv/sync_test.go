package osv_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/osv"
)

// bucket is an httptest stand-in for the osv.dev bucket.
type bucket struct {
	mu      sync.Mutex
	files   map[string][]byte
	hash    map[string]string // x-goog-hash override per path
	status  map[string]int
	hits    map[string]int
	onServe func(path string)
}

func newBucket() *bucket {
	return &bucket{files: map[string][]byte{}, hash: map[string]string{}, status: map[string]int{}, hits: map[string]int{}}
}

func (b *bucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	p := strings.TrimPrefix(r.URL.Path, "/")
	b.hits[p]++
	data, ok := b.files[p]
	st, h, on := b.status[p], b.hash[p], b.onServe
	b.mu.Unlock()
	if on != nil {
		on(p)
	}
	if st != 0 {
		http.Error(w, "injected failure", st)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if h == "" {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
		h = "crc32c=" + base64.StdEncoding.EncodeToString(c[:])
	}
	w.Header().Set("X-Goog-Hash", h)
	w.Write(data)
}

func (b *bucket) set(path string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[path] = data
}

// publish puts an ecosystem's records in the bucket: all.zip, one file per record and
// modified_id.csv (newest first, as osv.dev writes it).
func (b *bucket) publish(t *testing.T, eco string, recs []osvtest.Record, modified map[string]string) {
	t.Helper()
	b.set(eco+"/all.zip", osvtest.Zip(t, recs))
	var lines []string
	for _, r := range recs {
		id := strings.TrimSuffix(r.Name, ".json")
		b.set(eco+"/"+r.Name, r.Data)
		lines = append(lines, modified[id]+","+id)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	if modified != nil {
		b.set(eco+"/modified_id.csv", []byte(strings.Join(lines, "\n")+"\n"))
	}
}

func recMod(id, eco, name, mod string) osvtest.Record {
	return osvtest.Record{Name: id + ".json", Data: []byte(`{"id":"` + id + `","modified":"` + mod + `","affected":[{"package":{"ecosystem":"` + eco + `","name":"` + name + `"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`)}
}

func snapshotRecords(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	s, err := osv.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = s.Walk(context.Background(), func(e osv.Entry) error {
		r, err := osv.DecodeRecord(e.Data)
		if err != nil {
			return err
		}
		out[e.Ecosystem+"/"+r.ID] = r.Modified
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID(), out
}

func noTempLeft(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "snapshots", ".tmp-*"))
	links, _ := filepath.Glob(filepath.Join(dir, ".current-*"))
	if len(left)+len(links) > 0 {
		t.Errorf("temporary files left behind: %v %v", left, links)
	}
}

func TestSyncSharedRecords(t *testing.T) {
	b := newBucket()
	shared := osvtest.SharedRecords(t)
	var ecos []string
	total := 0
	for eco, recs := range shared {
		b.publish(t, eco, recs, nil)
		ecos = append(ecos, eco)
		total += len(recs)
	}
	b.set("ecosystems.txt", []byte(strings.Join(ecos, "\n")+"\n"))
	srv := httptest.NewServer(b)
	defer srv.Close()

	dir := t.TempDir()
	res, err := osv.Sync(context.Background(), dir, osv.WithBaseURL(srv.URL), osv.WithTransport(srv.Client().Transport))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Previous != "" {
		t.Errorf("first sync: changed=%v previous=%q", res.Changed, res.Previous)
	}
	id, recs := snapshotRecords(t, dir)
	if id != res.Snapshot.ID() || len(recs) != total {
		t.Errorf("snapshot %s with %d records, want %s with %d", id, len(recs), res.Snapshot.ID(), total)
	}
	for _, e := range res.Snapshot.Manifest.Ecosystems {
		if e.Fetch != "full" || e.Records != len(shared[e.Name]) || e.Latest == "" {
			t.Errorf("manifest entry %+v", e)
		}
	}
	// Same content again, no modified_id.csv: downloaded again, same snapshot, not changed.
	res2, err := osv.Sync(context.Background(), dir, osv.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Changed || res2.Snapshot.ID() != id {
		t.Errorf("second sync: changed=%v id=%s, want unchanged %s", res2.Changed, res2.Snapshot.ID(), id)
	}
	noTempLeft(t, dir)
}

func TestSyncIncremental(t *testing.T) {
	b := newBucket()
	mods := map[string]string{"N-1": "2024-01-01T00:00:00Z", "N-2": "2024-01-02T00:00:00Z", "N-3": "2024-01-03T00:00:00Z"}
	v1 := []osvtest.Record{recMod("N-1", "npm", "a", mods["N-1"]), recMod("N-2", "npm", "b", mods["N-2"]), recMod("N-3", "npm", "c", mods["N-3"])}
	b.publish(t, "npm", v1, mods)
	srv := httptest.NewServer(b)
	defer srv.Close()
	dir := t.TempDir()
	opts := []osv.SyncOption{osv.WithBaseURL(srv.URL), osv.WithEcosystems("npm")}
	first, err := osv.Sync(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing changed: only modified_id.csv is fetched.
	zipHits := b.hits["npm/all.zip"]
	same, err := osv.Sync(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if same.Changed || b.hits["npm/all.zip"] != zipHits {
		t.Errorf("unchanged sync: changed=%v, all.zip fetched %d more times", same.Changed, b.hits["npm/all.zip"]-zipHits)
	}

	// N-2 modified, N-3 removed, N-4 added.
	mods2 := map[string]string{"N-1": mods["N-1"], "N-2": "2024-02-02T00:00:00Z", "N-4": "2024-02-04T00:00:00Z"}
	v2 := []osvtest.Record{v1[0], recMod("N-2", "npm", "b2", mods2["N-2"]), recMod("N-4", "npm", "d", mods2["N-4"])}
	b.mu.Lock()
	delete(b.files, "npm/N-3.json")
	b.mu.Unlock()
	b.publish(t, "npm", v2, mods2)
	res, err := osv.Sync(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Previous != first.Snapshot.ID() {
		t.Errorf("changed=%v previous=%s, want true and %s", res.Changed, res.Previous, first.Snapshot.ID())
	}
	if b.hits["npm/all.zip"] != zipHits {
		t.Error("incremental sync downloaded all.zip")
	}
	if b.hits["npm/N-1.json"] != 0 || b.hits["npm/N-2.json"] != 1 || b.hits["npm/N-4.json"] != 1 {
		t.Errorf("record fetches: %v", b.hits)
	}
	if e := res.Snapshot.Manifest.Ecosystems[0]; e.Fetch != "incremental" || e.Records != 3 || e.Latest != "2024-02-04T00:00:00Z" {
		t.Errorf("manifest %+v", e)
	}
	_, recs := snapshotRecords(t, dir)
	want := map[string]string{"npm/N-1": mods2["N-1"], "npm/N-2": mods2["N-2"], "npm/N-4": mods2["N-4"]}
	if len(recs) != len(want) {
		t.Fatalf("records %v, want %v", recs, want)
	}
	for k, v := range want {
		if recs[k] != v {
			t.Errorf("%s modified %q, want %q", k, recs[k], v)
		}
	}
	// The previous snapshot is kept for the re-scan diff.
	if _, err := os.Stat(first.Snapshot.Dir); err != nil {
		t.Errorf("previous snapshot removed: %v", err)
	}
	noTempLeft(t, dir)
}

func TestSyncFailuresKeepCurrent(t *testing.T) {
	good := []osvtest.Record{recMod("N-1", "npm", "a", "2024-01-01T00:00:00Z")}
	tests := []struct {
		name   string
		break_ func(t *testing.T, b *bucket)
		opts   []osv.SyncOption
		target error
		msg    string
	}{
		{"archive is not a zip", func(t *testing.T, b *bucket) { b.set("npm/all.zip", []byte("garbage")) }, nil, osv.ErrFetch, "zip"},
		{"crc32c mismatch", func(t *testing.T, b *bucket) {
			b.publish(t, "npm", []osvtest.Record{recMod("N-9", "npm", "z", "2024-05-01T00:00:00Z")}, nil)
			b.hash["npm/all.zip"] = "crc32c=AAAAAA=="
		}, nil, osv.ErrFetch, "crc32c checksum mismatch"},
		{"invalid record in archive", func(t *testing.T, b *bucket) {
			b.publish(t, "npm", []osvtest.Record{{Name: "BAD.json", Data: []byte(`{"modified":"x"}`)}}, nil)
		}, nil, osv.ErrFetch, "no id"},
		{"truncated archive", func(t *testing.T, b *bucket) {
			z := osvtest.Zip(t, []osvtest.Record{recMod("N-9", "npm", "z", "2024-05-01T00:00:00Z")})
			b.set("npm/all.zip", z[:len(z)-30])
		}, nil, osv.ErrFetch, "zip"},
		{"server error", func(t *testing.T, b *bucket) { b.status["npm/all.zip"] = 503 }, nil, osv.ErrFetch, "503"},
		{"second ecosystem fails", func(t *testing.T, b *bucket) {
			b.publish(t, "npm", []osvtest.Record{recMod("N-9", "npm", "z", "2024-05-01T00:00:00Z")}, nil)
			b.status["Go/all.zip"] = 500
		}, []osv.SyncOption{osv.WithEcosystems("npm", "Go")}, osv.ErrFetch, "Go/all.zip"},
		{"incremental record is another record", func(t *testing.T, b *bucket) {
			mods := map[string]string{"N-1": "2024-01-01T00:00:00Z", "N-2": "2024-03-01T00:00:00Z"}
			b.publish(t, "npm", []osvtest.Record{good[0], recMod("N-2", "npm", "b", mods["N-2"])}, mods)
			b.set("npm/N-2.json", recMod("N-7", "npm", "b", mods["N-2"]).Data)
		}, nil, osv.ErrFetch, "holds record N-7"},
		{"interrupted", func(t *testing.T, b *bucket) {
			b.publish(t, "npm", []osvtest.Record{recMod("N-9", "npm", "z", "2024-05-01T00:00:00Z")}, nil)
		}, nil, context.Canceled, "canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket()
			b.publish(t, "npm", good, map[string]string{"N-1": "2024-01-01T00:00:00Z"})
			srv := httptest.NewServer(b)
			defer srv.Close()
			dir := t.TempDir()
			if _, err := osv.Sync(context.Background(), dir, osv.WithBaseURL(srv.URL), osv.WithEcosystems("npm")); err != nil {
				t.Fatal(err)
			}
			before, _ := snapshotRecords(t, dir)
			b.mu.Lock()
			delete(b.files, "npm/modified_id.csv") // force full downloads unless the case sets it
			b.mu.Unlock()
			tc.break_(t, b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.target == context.Canceled {
				b.onServe = func(string) { cancel() }
			}
			opts := append([]osv.SyncOption{osv.WithBaseURL(srv.URL), osv.WithEcosystems("npm")}, tc.opts...)
			_, err := osv.Sync(ctx, dir, opts...)
			if !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.target, tc.msg)
			}
			after, recs := snapshotRecords(t, dir)
			if after != before || recs["npm/N-1"] == "" {
				t.Errorf("current snapshot changed after a failed sync: %s → %s (%v)", before, after, recs)
			}
			noTempLeft(t, dir)
		})
	}
}

func TestSyncOptions(t *testing.T) {
	tests := []struct {
		opt osv.SyncOption
		msg string
	}{
		{osv.WithBaseURL("ftp://x"), "want http(s)://"},
		{osv.WithBaseURL("https://"), "want http(s)://"},
		{osv.WithEcosystems("../etc"), "invalid ecosystem name"},
		{osv.WithKeep(1), "keep must be ≥ 2"},
		{osv.WithMaxIncremental(-1), "must be ≥ 0"},
		{osv.WithTransport(nil), "nil transport"},
	}
	for _, tc := range tests {
		if err := osv.ValidateSyncOption(tc.opt); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("err = %v, want %q", err, tc.msg)
		}
		if _, err := osv.Sync(context.Background(), t.TempDir(), tc.opt); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Sync err = %v, want %q", err, tc.msg)
		}
	}
}

func TestSyncKeepsSnapshots(t *testing.T) {
	b := newBucket()
	srv := httptest.NewServer(b)
	defer srv.Close()
	dir := t.TempDir()
	var ids []string
	for i := range 4 {
		b.publish(t, "npm", []osvtest.Record{recMod("N-1", "npm", "a", fmt.Sprintf("2024-01-0%dT00:00:00Z", i+1))}, nil)
		res, err := osv.Sync(context.Background(), dir, osv.WithBaseURL(srv.URL), osv.WithEcosystems("npm"), osv.WithKeep(2))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Snapshot.ID())
		// Distinct modification times, so that "oldest" is well defined.
		past := time.Now().Add(time.Duration(i-10) * time.Second)
		os.Chtimes(res.Snapshot.Dir, past, past)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Fatalf("snapshots kept: %v, want the current and the previous one", names)
	}
	cur, _ := osv.Open(dir)
	if cur.ID() != ids[3] {
		t.Errorf("current %s, want %s", cur.ID(), ids[3])
	}
}
