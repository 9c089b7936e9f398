package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/registry/mirror"
)

// mirrorBase is what every mirror's pipeline shares with the publish pipeline: the publish:
// and outbound: sections, the scanner (one OSV index, reloaded after syncs) and the
// pipeline options (tool, launch, npm and PyPI policy, the VSA signer). servePublish sets it.
type mirrorBase struct {
	pc      publishConfig
	oc      outboundConfig
	scanner registry.Scanner
	options []registry.PipelineOption
}

// mirrorRun is one configured upstream, ready to run.
type mirrorRun struct {
	m        *mirror.Mirror
	interval time.Duration
	lease    time.Duration
}

// job is the upstream's run as a registry.Jobs job: claimed once across replicas.
func (r mirrorRun) job() registry.Job {
	m := r.m
	return registry.Job{Name: m.JobName(), Every: r.interval, Lease: r.lease,
		Run: func(ctx context.Context) (any, error) { return m.Run(ctx, false) }}
}

// buildMirrors builds one mirror per configured upstream, each over its own pipeline: the
// same registry.Pipeline as a publish, whose verifier holds the upstream's curation
// policies (one attest policy per namespace pattern) instead of publish.policies. The
// configuration of each is recorded in the audit chain when it changes.
func buildMirrors(ctx context.Context, c *serveConfig, base *mirrorBase, store registry.Backend, metrics *mirror.Metrics, log *slog.Logger) ([]mirrorRun, error) {
	var mc mirrorConfig
	if c.File != nil {
		if err := c.File.Section("mirror", &mc); err != nil {
			return nil, usageError(err)
		}
	}
	ups, err := mc.upstreams()
	if err != nil {
		return nil, usageError(err)
	}
	if len(ups) == 0 {
		return nil, nil
	}
	log = log.With(slog.String("log", "mirror"))
	urls := make([]string, len(ups))
	for i, u := range ups {
		urls[i] = u.URL
	}
	guard, err := base.oc.guard(log.With(slog.String("log", "outbound")),
		netguard.AllowPlainHTTP(base.pc.InsecureRegistries...), netguard.AllowURLs(urls...))
	if err != nil {
		return nil, usageError(fmt.Errorf("%w (mirror.upstreams, publish.insecure_registries)", err))
	}
	var runs []mirrorRun
	for i, u := range ups {
		for _, p := range u.Policies { // checked here so that errors name this section
			if _, err := attest.ParsePolicyFile(c.rel(p.Policy)); err != nil {
				return nil, usageErrorf("mirror.upstreams[%d].policies %s: %v", i, p.Namespace, err)
			}
		}
		pcu := base.pc
		pcu.Policies = u.Policies
		verifier, policies, err := publishVerifier(pcu, c.rel, guard, log)
		if err != nil {
			return nil, fmt.Errorf("mirror.upstreams[%d] (%s): %w", i, u.URL, err)
		}
		opts := append(slices.Clone(base.options), registry.WithRemoteTools(verifier),
			registry.WithServerJSONVerifier(verifier), registry.WithLogger(log))
		p, err := registry.NewPipeline(store, verifier, base.scanner, adapt.NewToolInspector(), opts...)
		if err != nil {
			return nil, usageError(err)
		}
		m, err := mirror.New(mirror.Config{Upstream: u.URL, Curation: u.Curation, Limits: u.Limits, Client: guard.Client(),
			Pipeline: p, Store: store, Metrics: metrics, Log: log})
		if err != nil {
			return nil, usageError(fmt.Errorf("mirror.upstreams[%d]: %w", i, err))
		}
		_, err = registry.AuditConfig(ctx, store, m.JobName(), map[string]any{"component": m.JobName(), "upstream": u.URL,
			"curation": u.Curation, "policies": policies}, time.Now())
		if errors.Is(err, registry.ErrAuditChain) {
			log.Error("the audit chain is broken: nothing is recorded until it is repaired (vetted audit verify names the break)", slog.String("error", err.Error()))
		} else if err != nil {
			return nil, err
		}
		runs = append(runs, mirrorRun{m: m, interval: u.Interval, lease: max(registry.DefaultJobLease, u.Limits.MaxDuration+5*time.Minute)})
	}
	return runs, nil
}

// serveMirror registers each configured upstream with c.jobs (scheduled when it has an
// interval) and exports the mirror's counters on /metrics.
func serveMirror(ctx context.Context, c *serveConfig, log *slog.Logger, store registry.Backend) ([]api.Option, error) {
	if c.mirrorBase == nil {
		return nil, nil
	}
	metrics := mirror.NewMetrics()
	runs, err := buildMirrors(ctx, c, c.mirrorBase, store, metrics, log)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		metrics.Init(r.m.Upstream())
		if err := c.jobs.Register(r.job()); err != nil {
			return nil, err
		}
		log.Info("mirroring enabled", slog.String("upstream", r.m.Upstream()), slog.Duration("interval", r.interval))
	}
	return []api.Option{api.WithCollectors(metrics.Collectors()...)}, nil
}
