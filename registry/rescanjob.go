package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
)

// OSVMirror keeps the OSV index, which may not exist yet when the server starts: scans
// see no index (and fail) until a snapshot is synced or imported.
type OSVMirror struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex
	m   *scan.Mirror
}

// NewOSVMirror returns a holder of the mirror in dir; Load reads it.
func NewOSVMirror(dir string, log *slog.Logger) *OSVMirror {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &OSVMirror{dir: dir, log: log}
}

// Dir is the mirror's directory.
func (h *OSVMirror) Dir() string { return h.dir }

// Load opens the mirror; a missing or broken one is logged, and Current stays nil.
func (h *OSVMirror) Load(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := scan.OpenMirror(ctx, h.dir, h.log)
	if err != nil {
		h.log.Warn("no OSV snapshot loaded: publishes fail their scan until the mirror is filled: `vetted osv sync --db "+h.dir+"` (online) or `vetted osv import --db "+h.dir+" DIR|FILE.zip…` (offline, from downloaded records)", slog.String("dir", h.dir), slog.String("error", err.Error()))
		return
	}
	h.m = m
}

// Current returns the current index, or nil when no snapshot is loaded.
func (h *OSVMirror) Current() *match.Index {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		return nil
	}
	return h.m.Current()
}

// Reload picks up a new snapshot; it reports whether the snapshot changed.
func (h *OSVMirror) Reload(ctx context.Context) (bool, error) {
	h.mu.Lock()
	m := h.m
	h.mu.Unlock()
	if m == nil {
		h.Load(ctx)
		return h.Current() != nil, nil
	}
	d, err := m.Reload(ctx)
	return d != nil, err
}

// RescanJobName is the claim name of the OSV sync and re-scan.
const RescanJobName = "osv-sync-rescan"

// RescanJob syncs the OSV mirror (when a source is configured), reloads it, re-scans every
// published and quarantined version and tells a webhook about each status change.
type RescanJob struct {
	Monitor *Monitor
	Mirror  *OSVMirror
	// SyncFrom is the OSV bucket's base URL; empty: no download, the mirror is filled
	// offline.
	SyncFrom   string
	Ecosystems []string
	// Transport carries the OSV download (the outbound guard's).
	Transport http.RoundTripper
	// Webhook, when set, is POSTed one JSON Change per quarantine or release, with Client.
	Webhook string
	Client  *http.Client
	Log     *slog.Logger
}

// RescanResult is what one run of the job did.
type RescanResult struct {
	Synced   bool          `json:"synced"`
	Snapshot string        `json:"snapshot,omitempty"`
	Rescan   *RescanReport `json:"rescan,omitempty"`
}

func (j *RescanJob) logger() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return j.Log
}

// Job returns the job to register with Jobs, run every interval (0: only on demand).
// Every replica reloads the snapshot after each tick, so a snapshot another replica synced
// to shared storage is picked up.
func (j *RescanJob) Job(interval time.Duration) Job {
	return Job{Name: RescanJobName, Every: interval,
		Run: func(ctx context.Context) (any, error) { return j.Run(ctx) },
		AfterTick: func(ctx context.Context) {
			if changed, err := j.Mirror.Reload(ctx); err == nil && changed {
				j.logger().Info("OSV snapshot reloaded")
			}
		}}
}

// Run syncs, reloads and re-scans. The caller holds the job's claim.
func (j *RescanJob) Run(ctx context.Context) (*RescanResult, error) {
	res := &RescanResult{}
	if j.SyncFrom != "" {
		opts := []osv.SyncOption{osv.WithBaseURL(j.SyncFrom)}
		if j.Transport != nil {
			opts = append(opts, osv.WithTransport(j.Transport))
		}
		if len(j.Ecosystems) > 0 {
			opts = append(opts, osv.WithEcosystems(j.Ecosystems...))
		}
		sr, err := osv.Sync(ctx, j.Mirror.Dir(), opts...)
		if err != nil {
			return nil, fmt.Errorf("OSV sync: %w", err)
		}
		res.Synced = sr.Changed
	}
	if _, err := j.Mirror.Reload(ctx); err != nil {
		return nil, fmt.Errorf("reload the OSV mirror: %w", err)
	}
	idx := j.Mirror.Current()
	if idx == nil {
		return res, errors.New("no OSV snapshot to re-scan against")
	}
	res.Snapshot = idx.SnapshotID()
	rep, err := j.RescanOnly(ctx)
	res.Rescan = rep
	if err != nil {
		return res, err
	}
	j.logger().Info("re-scan done", slog.String("snapshot", res.Snapshot), slog.Int("scanned", rep.Scanned), slog.Int("changes", len(rep.Changes)))
	return res, nil
}

// RescanOnly re-scans against the loaded snapshot without downloading (after a VEX change)
// and notifies the webhook of each change.
func (j *RescanJob) RescanOnly(ctx context.Context) (*RescanReport, error) {
	rep, err := j.Monitor.RescanAll(ctx)
	if rep != nil {
		for _, ch := range rep.Changes {
			j.Notify(ctx, ch)
		}
	}
	return rep, err
}

// Notify POSTs one change to the webhook (best effort, logged).
func (j *RescanJob) Notify(ctx context.Context, ch Change) {
	if j.Webhook == "" {
		return
	}
	log := j.logger()
	body, _ := json.Marshal(ch)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Webhook, bytes.NewReader(body))
	if err != nil {
		log.Warn("webhook", slog.String("error", err.Error()))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	client := j.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		log.Warn("webhook failed", slog.String("event", ch.Event), slog.String("error", err.Error()))
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		log.Warn("webhook refused", slog.String("event", ch.Event), slog.Int("status", resp.StatusCode))
	}
}
