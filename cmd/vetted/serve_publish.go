package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
)

func init() { addConfigSection("publish") }

// publishConfig is the `publish:` section of vetted.yaml: how `vetted serve` verifies,
// scans and decides publishes, and keeps re-scanning what it serves.
//
//	publish:
//	  policies:                          # first matching namespace wins; no match = denied
//	    - namespace: io.github.acme/*
//	      policy: policies/acme.yaml     # an attest policy (see `vetted verify --policy`)
//	  insecure_registries: [127.0.0.1:5000]   # OCI registries reachable over plain HTTP
//	  osv_dir: vetted-data/osv           # OSV mirror (default <data-dir>/osv)
//	  scan: {fail_on: high, review_on: medium}
//	  tools: {review_at: low, reject_at: critical}
//	  launch: {review_at: medium, reject_at: critical}   # launch-configuration lint ("none" turns one off)
//	  vsa_key: vetted-data/vsa-key.pem   # registry signing key (default <data-dir>/vsa-key.pem, created 0600)
//	  rescan:
//	    interval: 6h                     # OSV sync + re-scan of every published version; 0 = off
//	    sync_from: https://osv-vulnerabilities.storage.googleapis.com
//	    ecosystems: [npm, PyPI, Go, Maven]
//	  webhook: https://hooks.example.com/vetted   # POSTed one JSON event per quarantine/release
//
// OCI registries and the OSV bucket must be allowed in `outbound:` (an entry without a port
// allows 443 and the ports of its insecure registries); plain HTTP is spoken only to
// insecure_registries. The webhook and sync_from URLs are allowed at their own host, port
// and scheme.
// With several replicas on one PostgreSQL, osv_dir should be shared storage: one replica
// (claimed through the database) syncs and re-scans, every replica reloads the snapshot.
type publishConfig struct {
	Policies []struct {
		Namespace string `json:"namespace"`
		Policy    string `json:"policy"`
	} `json:"policies,omitempty"`
	InsecureRegistries []string `json:"insecure_registries,omitempty"`
	OSVDir             string   `json:"osv_dir,omitempty"`
	Scan               struct {
		FailOn   string `json:"fail_on,omitempty"`
		ReviewOn string `json:"review_on,omitempty"`
	} `json:"scan"`
	Tools struct {
		ReviewAt string `json:"review_at,omitempty"`
		RejectAt string `json:"reject_at,omitempty"`
	} `json:"tools"`
	Launch struct {
		ReviewAt string `json:"review_at,omitempty"`
		RejectAt string `json:"reject_at,omitempty"`
	} `json:"launch"`
	VSAKey string `json:"vsa_key,omitempty"`
	Rescan struct {
		Interval   string   `json:"interval,omitempty"`
		SyncFrom   string   `json:"sync_from,omitempty"`
		Ecosystems []string `json:"ecosystems,omitempty"`
	} `json:"rescan"`
	Webhook string    `json:"webhook,omitempty"`
	NPM     npmConfig `json:"npm"`
}

// npmConfig is publish.npm: how npm packages are read and verified.
//
//	npm:
//	  unpinned: review                   # review|reject|allow dependencies no shipped lockfile pins
//	  registries: [https://registry.npmjs.org, http://127.0.0.1:4873]  # registryBaseUrl allow-list; first = default
//	  keys:                              # npm registry keys for publish attestations (default: npm's, shipped)
//	    - keyid: "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"
//	      key: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3z…   # base64 DER (as served at /-/npm/v1/keys)
//	      expires: "2025-01-29T00:00:00.000Z"
type npmConfig struct {
	Registries []string   `json:"registries,omitempty"`
	Keys       *[]npm.Key `json:"keys,omitempty"`
	// Unpinned: review (default), reject or allow a package whose dependencies are ranges no
	// shipped lockfile pins (registry-generated SBOMs only).
	Unpinned string `json:"unpinned,omitempty"`
}

// servePublish builds the publish pipeline and the continuous scanner. It returns the api
// option and starts the background jobs, which stop with ctx.
func servePublish(ctx context.Context, c *serveConfig, log *slog.Logger, store registry.Backend) ([]api.Option, error) {
	var pc publishConfig
	var oc outboundConfig
	if c.File != nil {
		if err := c.File.Section("publish", &pc); err != nil {
			return nil, usageError(err)
		}
		if err := c.File.Section("outbound", &oc); err != nil {
			return nil, usageError(err)
		}
	}
	base := filepath.Dir(c.ConfigPath)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	log = log.With(slog.String("log", "publish"))
	// Plain HTTP only to the insecure registries; the webhook and the OSV mirror the
	// operator named are allowed at their own host, port and scheme.
	gopts := []netguard.Option{netguard.AllowPlainHTTP(pc.InsecureRegistries...)}
	for _, u := range []string{pc.Webhook, pc.Rescan.SyncFrom} {
		if u != "" {
			gopts = append(gopts, netguard.AllowURLs(u))
		}
	}
	guard, err := oc.guard(log.With(slog.String("log", "outbound")), gopts...)
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (publish.insecure_registries, publish.webhook, publish.rescan.sync_from)", err))
	}

	// Verification: one attest policy per namespace pattern.
	var nps []adapt.NamespacePolicy
	type policyRecord struct {
		Namespace string `json:"namespace"`
		Policy    string `json:"policy"`
		Digest    string `json:"digest"`
	}
	var policyRecords []policyRecord
	for _, p := range pc.Policies {
		pol, err := attest.ParsePolicyFile(rel(p.Policy))
		if err != nil {
			return nil, usageErrorf("publish.policies %s: %v", p.Namespace, err)
		}
		raw, _ := os.ReadFile(rel(p.Policy))
		nps = append(nps, adapt.NamespacePolicy{Pattern: p.Namespace, Policy: pol, Name: p.Policy})
		policyRecords = append(policyRecords, policyRecord{Namespace: p.Namespace, Policy: p.Policy, Digest: registry.Digest(raw)})
	}
	aopts := []attest.Option{attest.WithTransport(guard.RoundTripper()),
		attest.WithInsecureRegistries(pc.InsecureRegistries...), attest.WithLogger(log)}
	if pc.NPM.Keys != nil {
		aopts = append(aopts, attest.WithNPMKeys(*pc.NPM.Keys...))
	}
	verifier, err := adapt.NewVerifier(nps, aopts...)
	if err != nil {
		return nil, usageError(fmt.Errorf("publish: %w", err))
	}
	if len(pc.NPM.Registries) > 0 {
		if err := verifier.SetNPMRegistries(pc.NPM.Registries...); err != nil {
			return nil, usageError(fmt.Errorf("publish.npm.registries: %w", err))
		}
	}

	// Scanning against the OSV mirror (loaded now if present, reloaded after every sync).
	osvDir := rel(pc.OSVDir)
	if osvDir == "" {
		osvDir = filepath.Join(c.DataDir, "osv")
	}
	mir := &mirrorHolder{dir: osvDir, log: log}
	mir.load(ctx)
	sp := adapt.DefaultScanPolicy
	if pc.Scan.FailOn != "" {
		sp.FailOn = match.Level(pc.Scan.FailOn)
	}
	if pc.Scan.ReviewOn != "" {
		sp.ReviewOn = match.Level(pc.Scan.ReviewOn)
	}
	// VEX statements recorded by reviewers apply to every scan and re-scan.
	desk, err := registry.NewDesk(store)
	if err != nil {
		return nil, err
	}
	scanner, err := adapt.NewScanner(mir.current, sp, desk.VEXSet)
	if err != nil {
		return nil, usageErrorf("publish.scan: %v", err)
	}

	// The registry's own signing key.
	keyPath := rel(pc.VSAKey)
	if keyPath == "" {
		keyPath = filepath.Join(c.DataDir, "vsa-key.pem")
	}
	key, err := vsa.LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	signer, err := vsa.NewSigner(key)
	if err != nil {
		return nil, err
	}

	opts := []registry.PipelineOption{
		registry.WithLinks(api.Links),
		registry.WithRemoteTools(verifier),
		registry.WithServerJSONVerifier(verifier),
		registry.WithVSASigner(registry.NewVSAKeySigner(signer, c.resource, "vetted")),
		registry.WithLogger(log),
		registry.WithNPM(registry.NPMOptions{SBOM: npmSBOMGenerator, Unpinned: pc.NPM.Unpinned}),
	}
	if pc.Tools.ReviewAt != "" || pc.Tools.RejectAt != "" {
		tp := registry.ToolPolicy{ReviewAt: "low", RejectAt: "critical"}
		if pc.Tools.ReviewAt != "" {
			tp.ReviewAt = pc.Tools.ReviewAt
		}
		if pc.Tools.RejectAt != "" {
			tp.RejectAt = pc.Tools.RejectAt
		}
		opts = append(opts, registry.WithToolPolicy(tp))
	}
	if pc.Launch.ReviewAt != "" || pc.Launch.RejectAt != "" {
		lp := registry.DefaultLaunchPolicy
		if pc.Launch.ReviewAt != "" {
			lp.ReviewAt = pc.Launch.ReviewAt
		}
		if pc.Launch.RejectAt != "" {
			lp.RejectAt = pc.Launch.RejectAt
		}
		opts = append(opts, registry.WithLaunchPolicy(lp))
	}
	pipeline, err := registry.NewPipeline(store, verifier, scanner, adapt.NewToolInspector(), opts...)
	if err != nil {
		return nil, usageError(err)
	}

	// Continuous scanning.
	interval := time.Duration(0)
	if pc.Rescan.Interval != "" {
		if interval, err = time.ParseDuration(pc.Rescan.Interval); err != nil || interval < 0 {
			return nil, usageErrorf("publish.rescan.interval %q: want a duration such as 6h (0 disables)", pc.Rescan.Interval)
		}
	}
	job := &rescanJob{store: store, mirror: mir, monitor: registry.NewMonitor(store, scanner, nil, log), log: log,
		guard: guard, syncFrom: pc.Rescan.SyncFrom, ecosystems: pc.Rescan.Ecosystems, webhook: pc.Webhook, holder: holderID()}
	if interval > 0 {
		go job.loop(ctx, interval)
	}
	c.rescan = &rescanHook{run: func(ctx context.Context) error {
		// Re-scan only (no OSV download): a VEX change takes effect at once.
		rep, err := job.monitor.RescanAll(ctx)
		if err == nil {
			for _, ch := range rep.Changes {
				job.notify(ctx, ch)
			}
		}
		return err
	}}

	c.vouch = &vouchHook{run: func(ctx context.Context, k registry.Key) ([]byte, error) {
		rec, err := store.VersionRecord(ctx, k)
		if err != nil {
			return nil, err
		}
		pinned, err := store.PinnedPackages(ctx, k)
		if err != nil {
			return nil, err
		}
		return registry.VouchFor(registry.NewVSAKeySigner(signer, c.resource, "vetted"), rec, pinned, time.Now())
	}}

	cfg := api.PublishConfig{
		Pipeline: pipeline, Evidence: store, Audit: store,
		VSAPublicKey: signer.PublicKeyPEM(),
		SARIF:        adapt.SARIF("vetted"),
		Caller: func(ctx context.Context) (string, registry.Authorizer) {
			p := auth.PrincipalFrom(ctx)
			return p.ID(), registry.AuthorizerFunc(func(name string) error { return auth.Require(ctx, auth.PermPublish, name) })
		},
		Rescan: func(ctx context.Context) (any, error) { return job.run(ctx, true) },
	}
	// A changed publishing configuration is an audit event: which policies decided what.
	err = auditConfig(ctx, store, map[string]any{"component": "publish", "policies": policyRecords,
		"scan": pc.Scan, "tools": pc.Tools, "insecureRegistries": pc.InsecureRegistries})
	switch {
	case errors.Is(err, registry.ErrAuditChain):
		// Serve what is recorded; every write answers 503 until the chain is repaired.
		log.Error("the audit chain is broken: the registry is read-only until it is repaired (vetted audit verify names the break)",
			slog.String("error", err.Error()))
	case err != nil:
		return nil, err
	}
	log.Info("publishing enabled", slog.Int("policies", len(nps)), slog.String("osv_dir", osvDir),
		slog.String("vsa_key_id", signer.KeyID()), slog.Duration("rescan_interval", interval))
	return []api.Option{api.WithPublishing(cfg)}, nil
}

// auditConfig appends a config.change event when cfg differs from the last one recorded
// for its component.
func auditConfig(ctx context.Context, store registry.Backend, cfg map[string]any) error {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	digest := registry.Digest(raw)
	component, _ := cfg["component"].(string)
	last := ""
	for after := int64(0); ; {
		es, err := store.AuditEvents(ctx, after, 10000)
		if err != nil {
			return fmt.Errorf("read the audit chain: %w", err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Type == registry.AuditConfigChange && e.Subject == component {
				var d struct {
					Digest string `json:"digest"`
				}
				_ = json.Unmarshal(e.Data, &d)
				last = d.Digest
			}
		}
		after = es[len(es)-1].Seq
	}
	if last == digest {
		return nil
	}
	data, _ := json.Marshal(map[string]any{"digest": digest, "config": json.RawMessage(raw)})
	_, err = store.AppendAudit(ctx, registry.AuditEvent{Time: time.Now(), Type: registry.AuditConfigChange, Actor: "vetted", Subject: component, Data: data})
	return err
}

// rescanHook re-scans every published version now (serveConfig.rescan).
type rescanHook struct {
	run func(ctx context.Context) error
}

// Run runs the hook; a nil hook does nothing.
func (h *rescanHook) Run(ctx context.Context) error {
	if h == nil || h.run == nil {
		return nil
	}
	return h.run(ctx)
}

// vouchHook signs the registry's attestation for a recorded version (serveConfig.vouch).
type vouchHook struct {
	run func(ctx context.Context, k registry.Key) ([]byte, error)
}

// Run signs; a nil hook signs nothing.
func (h *vouchHook) Run(ctx context.Context, k registry.Key) ([]byte, error) {
	if h == nil || h.run == nil {
		return nil, nil
	}
	return h.run(ctx, k)
}

// mirrorHolder keeps the OSV index, which may not exist yet when serve starts.
type mirrorHolder struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex
	m   *scan.Mirror
}

func (h *mirrorHolder) load(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := scan.OpenMirror(ctx, h.dir, h.log)
	if err != nil {
		h.log.Warn("no OSV snapshot loaded: publishes fail their scan until the mirror is filled: `vetted osv sync --db "+h.dir+"` (online) or `vetted osv import --db "+h.dir+" DIR|FILE.zip…` (offline, from downloaded records)", slog.String("dir", h.dir), slog.String("error", err.Error()))
		return
	}
	h.m = m
}

func (h *mirrorHolder) current() *match.Index {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		return nil
	}
	return h.m.Current()
}

// reload picks up a new snapshot; it reports whether the snapshot changed.
func (h *mirrorHolder) reload(ctx context.Context) (bool, error) {
	h.mu.Lock()
	m := h.m
	h.mu.Unlock()
	if m == nil {
		h.load(ctx)
		return h.current() != nil, nil
	}
	d, err := m.Reload(ctx)
	return d != nil, err
}

// rescanJob syncs the OSV mirror and re-scans every published version; with several
// replicas, the database hands it to exactly one.
type rescanJob struct {
	store      registry.LifecycleStore
	mirror     *mirrorHolder
	monitor    *registry.Monitor
	log        *slog.Logger
	guard      *netguard.Guard
	syncFrom   string
	ecosystems []string
	webhook    string
	holder     string
	mu         sync.Mutex // one run at a time in this process
}

const rescanJobName = "osv-sync-rescan"

func holderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (j *rescanJob) loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(min(interval, time.Minute))
	defer t.Stop()
	for {
		if _, err := j.runDue(ctx, interval); err != nil && ctx.Err() == nil {
			j.log.Warn("scheduled OSV sync and re-scan failed", slog.String("error", err.Error()))
		}
		// Replicas that did not run the job still pick up a new snapshot on shared storage.
		if changed, err := j.mirror.reload(ctx); err == nil && changed {
			j.log.Info("OSV snapshot reloaded")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *rescanJob) runDue(ctx context.Context, interval time.Duration) (any, error) {
	now := time.Now()
	ok, err := j.store.ClaimJob(ctx, rescanJobName, j.holder, now, 30*time.Minute, now.Add(-interval))
	if err != nil || !ok {
		return nil, err
	}
	return j.claimed(ctx)
}

// run runs the job now (an admin asked), if no other replica holds it.
func (j *rescanJob) run(ctx context.Context, _ bool) (any, error) {
	now := time.Now()
	ok, err := j.store.ClaimJob(ctx, rescanJobName, j.holder, now, 30*time.Minute, time.Time{})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("another replica is running the OSV sync and re-scan: %w", registry.ErrConflict)
	}
	return j.claimed(ctx)
}

type rescanResult struct {
	Synced   bool                   `json:"synced"`
	Snapshot string                 `json:"snapshot,omitempty"`
	Rescan   *registry.RescanReport `json:"rescan,omitempty"`
}

func (j *rescanJob) claimed(ctx context.Context) (any, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	defer j.store.CompleteJob(context.WithoutCancel(ctx), rescanJobName, j.holder, time.Now())
	res := &rescanResult{}
	if j.syncFrom != "" {
		opts := []osv.SyncOption{osv.WithBaseURL(j.syncFrom), osv.WithTransport(j.guard.RoundTripper())}
		if len(j.ecosystems) > 0 {
			opts = append(opts, osv.WithEcosystems(j.ecosystems...))
		}
		sr, err := osv.Sync(ctx, j.mirror.dir, opts...)
		if err != nil {
			return nil, fmt.Errorf("OSV sync: %w", err)
		}
		res.Synced = sr.Changed
	}
	if _, err := j.mirror.reload(ctx); err != nil {
		return nil, fmt.Errorf("reload the OSV mirror: %w", err)
	}
	if idx := j.mirror.current(); idx != nil {
		res.Snapshot = idx.SnapshotID()
	} else {
		return res, errors.New("no OSV snapshot to re-scan against")
	}
	rep, err := j.monitor.RescanAll(ctx)
	res.Rescan = rep
	if err != nil {
		return res, err
	}
	for _, ch := range rep.Changes {
		j.notify(ctx, ch)
	}
	j.log.Info("re-scan done", slog.String("snapshot", res.Snapshot), slog.Int("scanned", rep.Scanned), slog.Int("changes", len(rep.Changes)))
	return res, nil
}

// notify POSTs one change to the webhook (best effort, logged).
func (j *rescanJob) notify(ctx context.Context, ch registry.Change) {
	if j.webhook == "" {
		return
	}
	body, _ := json.Marshal(ch)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.webhook, bytes.NewReader(body))
	if err != nil {
		j.log.Warn("webhook", slog.String("error", err.Error()))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := j.guard.Client().Do(req)
	if err != nil {
		j.log.Warn("webhook failed", slog.String("event", ch.Event), slog.String("error", err.Error()))
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		j.log.Warn("webhook refused", slog.String("event", ch.Event), slog.Int("status", resp.StatusCode))
	}
}
