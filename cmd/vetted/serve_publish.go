package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/scan/match"
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
	Webhook string     `json:"webhook,omitempty"`
	NPM     npmConfig  `json:"npm"`
	PyPI    pypiConfig `json:"pypi"`
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

// servePublish builds the publish pipeline and registers the OSV sync and re-scan with
// c.jobs (which runs it once across replicas). It returns the api option.
func servePublish(ctx context.Context, c *serveConfig, log *slog.Logger, store registry.Backend) ([]api.Option, error) {
	pc, oc, err := publishSections(c)
	if err != nil {
		return nil, err
	}
	log = log.With(slog.String("log", "publish"))
	guard, err := publishGuard(pc, oc, log)
	if err != nil {
		return nil, err
	}
	verifier, policies, err := publishVerifier(pc, c.rel, guard, log)
	if err != nil {
		return nil, err
	}
	mir, scanner, err := publishScanner(ctx, c, pc, store, log)
	if err != nil {
		return nil, err
	}
	signer, err := vsaSigner(c, pc)
	if err != nil {
		return nil, err
	}
	vsaSign := registry.NewVSAKeySigner(signer, c.resource, "vetted")
	opts := append(pipelineOptions(pc), registry.WithRemoteTools(verifier), registry.WithServerJSONVerifier(verifier),
		registry.WithVSASigner(vsaSign), registry.WithLogger(log))
	pipeline, err := registry.NewPipeline(store, verifier, scanner, adapt.NewToolInspector(), opts...)
	if err != nil {
		return nil, usageError(err)
	}
	interval, err := rescanInterval(pc)
	if err != nil {
		return nil, err
	}
	c.rescan = &registry.RescanJob{Monitor: registry.NewMonitor(store, scanner, nil, log), Mirror: mir,
		SyncFrom: pc.Rescan.SyncFrom, Ecosystems: pc.Rescan.Ecosystems, Transport: guard.RoundTripper(),
		Webhook: pc.Webhook, Client: guard.Client(), Log: log}
	if err := c.jobs.Register(c.rescan.Job(interval)); err != nil {
		return nil, err
	}
	c.voucher = registry.NewVoucher(store, vsaSign, nil)
	c.mirrorBase = &mirrorBase{pc: pc, oc: oc, scanner: scanner, options: append(pipelineOptions(pc), registry.WithVSASigner(vsaSign))}
	// A changed publishing configuration is an audit event: which policies decided what.
	if err := auditPublishConfig(ctx, store, pc, policies, log); err != nil {
		return nil, err
	}
	log.Info("publishing enabled", slog.Int("policies", len(policies)), slog.String("osv_dir", mir.Dir()),
		slog.String("vsa_key_id", signer.KeyID()), slog.Duration("rescan_interval", interval))
	return []api.Option{api.WithPublishing(api.PublishConfig{
		Pipeline: pipeline, Evidence: store, Audit: store,
		VSAPublicKey: signer.PublicKeyPEM(),
		SARIF:        adapt.SARIF("vetted"),
		Rescan:       func(ctx context.Context) (any, error) { return c.jobs.RunNow(ctx, registry.RescanJobName) },
	})}, nil
}

// publishSections reads the publish: and outbound: sections.
func publishSections(c *serveConfig) (publishConfig, outboundConfig, error) {
	var pc publishConfig
	var oc outboundConfig
	if c.File != nil {
		if err := c.File.Section("publish", &pc); err != nil {
			return pc, oc, usageError(err)
		}
		if err := c.File.Section("outbound", &oc); err != nil {
			return pc, oc, usageError(err)
		}
	}
	return pc, oc, nil
}

// rel resolves a path of the configuration file against the file's directory.
func (c *serveConfig) rel(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.ConfigPath), p)
}

// publishGuard is the outbound guard of publishing: plain HTTP only to the insecure
// registries; the webhook, the OSV mirror and the npm registries and PyPI indexes the
// operator named are allowed at their own host, port and scheme.
func publishGuard(pc publishConfig, oc outboundConfig, log *slog.Logger) (*netguard.Guard, error) {
	gopts := []netguard.Option{netguard.AllowPlainHTTP(pc.InsecureRegistries...)}
	urls := append([]string{pc.Webhook, pc.Rescan.SyncFrom}, pc.NPM.Registries...)
	for _, u := range append(urls, pc.PyPI.Indexes...) {
		if u != "" {
			gopts = append(gopts, netguard.AllowURLs(u))
		}
	}
	guard, err := oc.guard(log.With(slog.String("log", "outbound")), gopts...)
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (publish.insecure_registries, publish.webhook, publish.rescan.sync_from, publish.npm.registries, publish.pypi.indexes)", err))
	}
	return guard, nil
}

// policyRecord is what the audit chain records of one namespace policy.
type policyRecord struct {
	Namespace string `json:"namespace"`
	Policy    string `json:"policy"`
	Digest    string `json:"digest"`
}

// publishVerifier builds the verifier: one attest policy per namespace pattern, parsed now
// so that a broken policy fails the start.
func publishVerifier(pc publishConfig, rel func(string) string, guard *netguard.Guard, log *slog.Logger) (*adapt.Verifier, []policyRecord, error) {
	var nps []adapt.NamespacePolicy
	var records []policyRecord
	for _, p := range pc.Policies {
		pol, err := attest.ParsePolicyFile(rel(p.Policy))
		if err != nil {
			return nil, nil, usageErrorf("publish.policies %s: %v", p.Namespace, err)
		}
		raw, _ := os.ReadFile(rel(p.Policy))
		nps = append(nps, adapt.NamespacePolicy{Pattern: p.Namespace, Policy: pol, Name: p.Policy})
		records = append(records, policyRecord{Namespace: p.Namespace, Policy: p.Policy, Digest: registry.Digest(raw)})
	}
	aopts := []attest.Option{attest.WithTransport(guard.RoundTripper()),
		attest.WithInsecureRegistries(pc.InsecureRegistries...), attest.WithLogger(log)}
	if pc.NPM.Keys != nil {
		aopts = append(aopts, attest.WithNPMKeys(*pc.NPM.Keys...))
	}
	verifier, err := adapt.NewVerifier(nps, aopts...)
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("publish: %w", err))
	}
	if len(pc.NPM.Registries) > 0 {
		if err := verifier.SetNPMRegistries(pc.NPM.Registries...); err != nil {
			return nil, nil, usageError(fmt.Errorf("publish.npm.registries: %w", err))
		}
	}
	if err := pc.PyPI.configure(verifier); err != nil {
		return nil, nil, err
	}
	return verifier, records, nil
}

// publishScanner loads the OSV mirror (if present; reloaded after every sync) and builds
// the scanner, which applies the reviewers' VEX statements to every scan and re-scan.
func publishScanner(ctx context.Context, c *serveConfig, pc publishConfig, store registry.Backend, log *slog.Logger) (*registry.OSVMirror, *adapt.Scanner, error) {
	osvDir := c.rel(pc.OSVDir)
	if osvDir == "" {
		osvDir = filepath.Join(c.DataDir, "osv")
	}
	mir := registry.NewOSVMirror(osvDir, log)
	mir.Load(ctx)
	sp := adapt.DefaultScanPolicy
	if pc.Scan.FailOn != "" {
		sp.FailOn = match.Level(pc.Scan.FailOn)
	}
	if pc.Scan.ReviewOn != "" {
		sp.ReviewOn = match.Level(pc.Scan.ReviewOn)
	}
	desk, err := registry.NewDesk(store)
	if err != nil {
		return nil, nil, err
	}
	scanner, err := adapt.NewScanner(mir.Current, sp, desk.VEXSet)
	if err != nil {
		return nil, nil, usageErrorf("publish.scan: %v", err)
	}
	return mir, scanner, nil
}

// vsaSigner loads (or creates) the registry's own signing key.
func vsaSigner(c *serveConfig, pc publishConfig) (*vsa.Signer, error) {
	keyPath := c.rel(pc.VSAKey)
	if keyPath == "" {
		keyPath = filepath.Join(c.DataDir, "vsa-key.pem")
	}
	key, err := vsa.LoadOrCreateKey(keyPath)
	if err != nil {
		return nil, err
	}
	return vsa.NewSigner(key)
}

// pipelineOptions are the pipeline's policies from the configuration.
func pipelineOptions(pc publishConfig) []registry.PipelineOption {
	opts := []registry.PipelineOption{registry.WithNPM(registry.NPMOptions{SBOM: npmSBOMGenerator, Unpinned: pc.NPM.Unpinned}), pc.PyPI.option()}
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
	return opts
}

// rescanInterval is publish.rescan.interval (0: off).
func rescanInterval(pc publishConfig) (time.Duration, error) {
	if pc.Rescan.Interval == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(pc.Rescan.Interval)
	if err != nil || d < 0 {
		return 0, usageErrorf("publish.rescan.interval %q: want a duration such as 6h (0 disables)", pc.Rescan.Interval)
	}
	return d, nil
}

// auditPublishConfig records a changed publishing configuration in the audit chain. A
// broken chain does not stop the start: the registry serves what is recorded, and every
// write answers 503 until the chain is repaired.
func auditPublishConfig(ctx context.Context, store registry.Backend, pc publishConfig, policies []policyRecord, log *slog.Logger) error {
	_, err := registry.AuditConfig(ctx, store, "publish", map[string]any{"component": "publish", "policies": policies,
		"scan": pc.Scan, "tools": pc.Tools, "insecureRegistries": pc.InsecureRegistries}, time.Now())
	if errors.Is(err, registry.ErrAuditChain) {
		log.Error("the audit chain is broken: the registry is read-only until it is repaired (vetted audit verify names the break)",
			slog.String("error", err.Error()))
		return nil
	}
	return err
}
