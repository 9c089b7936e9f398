package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

// serveConfig is what `vetted serve` runs with, after flags, environment and file.
type serveConfig struct {
	Addr       string
	DataDir    string
	ConfigPath string
	Database   string
	LogFormat  string
	LogLevel   string
	// File is the parsed configuration file, for the structured sections.
	File *configFile
	// TLS and plain-HTTP policy (serve_auth.go).
	TLSCert      string
	TLSKey       string
	InsecureHTTP bool
	// Cache bound and the benchmark's scan switch (serve_tuning.go).
	Tuning serveTuning

	resource string        // the registry's URL, derived from the listener unless configured
	authSvc  *auth.Service // set by apiOptions
	review   *reviewWiring // the security team's desk and its links to publishing (serve_review.go)
	// jobs runs the registry's periodic jobs once across replicas; each serve_*.go that
	// has background work registers a registry.Job with it (runServe starts it).
	jobs *registry.Jobs
	// rescan is the OSV sync and re-scan (set by servePublish; the security desk re-scans
	// with it after a VEX change).
	rescan *registry.RescanJob
	// voucher signs the registry's attestation for a version approved out of
	// pending_review (set by servePublish; for the security desk).
	voucher *registry.Voucher
	// mirrorBase is what the mirrors' pipelines share with the publish pipeline (set by
	// servePublish; serve_mirror.go).
	mirrorBase *mirrorBase
	// ready, when set, receives the registry's URL once it accepts requests (`vetted demo`
	// publishes then); it must have room for one value.
	ready chan<- string
}

// HTTP server timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 15 * time.Second
	maxHeaderBytes    = 64 << 10
)

// sqliteFile is the name of the embedded database in the data directory.
const sqliteFile = "vetted.db"

func newServeCmd(e *env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the registry server",
		Long: `Run the registry server: the read API (wire-compatible with the official MCP registry
v0.1, under /v0.1 and /v0), /healthz, /readyz, /metrics, /openapi.json, /openapi.yaml and /docs,
the security team's API under /v0.1/x/dev.vetted/review and their web pages under /ui.

Storage is SQLite in the data directory unless --database names a PostgreSQL server
(postgres://…). Every flag can also be set with the environment variable VETTED_<FLAG>
(e.g. VETTED_DATA_DIR) or as a key of the configuration file (vetted.example.yaml
documents them); flags win over the environment, which wins over the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, required := c.ConfigPath, cmd.Flags().Changed("config")
			if v := e.getenv(envName("config")); v != "" && !required {
				path, required = v, true
			}
			f, err := loadConfigFile(path, required)
			if err != nil {
				return usageError(err)
			}
			if err := applyConfig(cmd, e, f); err != nil {
				return usageError(err)
			}
			c.ConfigPath, c.File = path, f
			return runServe(cmd.Context(), e, &c)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	fl.StringVar(&c.DataDir, "data-dir", "./vetted-data", "directory for the SQLite database and keys")
	fl.StringVar(&c.ConfigPath, "config", defaultConfigPath, "configuration file (YAML); optional unless given")
	fl.StringVar(&c.Database, "database", "", "PostgreSQL connection URL (postgres://…); empty: SQLite in the data directory")
	fl.StringVar(&c.LogFormat, "log-format", "text", "log format: json or text")
	fl.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate chain (PEM); with --tls-key serves HTTPS (TLS 1.2 or later)")
	fl.StringVar(&c.TLSKey, "tls-key", "", "TLS private key (PEM)")
	fl.BoolVar(&c.InsecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)")
	addServeTuningFlags(fl, &c.Tuning)
	return cmd
}

// newLogger builds the server's logger writing to w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

// openStore opens PostgreSQL when database is a postgres URL, else SQLite in dataDir: the
// one storage contract, whichever backend.
func openStore(ctx context.Context, c *serveConfig, log *slog.Logger) (registry.Backend, string, error) {
	switch {
	case strings.HasPrefix(c.Database, "postgres://"), strings.HasPrefix(c.Database, "postgresql://"):
		s, err := postgres.Open(ctx, c.Database, c.Tuning.storeOptions(log)...)
		return s, "postgres", err
	case c.Database != "":
		return nil, "", usageErrorf("--database: want a postgres:// or postgresql:// URL (or nothing, for SQLite in the data directory)")
	}
	if c.DataDir == "" {
		return nil, "", usageErrorf("--data-dir: empty")
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("data directory: %w", err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(c.DataDir, sqliteFile), c.Tuning.storeOptions(log)...)
	return s, "sqlite", err
}

// apiOptions are the options the API server is built with. Commands that extend the
// server (authentication, publishing) add theirs here.
func apiOptions(ctx context.Context, c *serveConfig, log *slog.Logger, st registry.Backend) ([]api.Option, error) {
	if c.jobs == nil {
		c.jobs = registry.NewJobs(st, registry.WithJobsLogger(log.With(slog.String("log", "jobs"))))
	}
	authOpts, svc, err := serveAuth(c, c.resource, log)
	if err != nil {
		return nil, err
	}
	c.authSvc = svc
	c.resource = svc.Metadata().Resource // auth.resource when configured
	reviewOpts, err := serveReview(c, log, st)
	if err != nil {
		return nil, err
	}
	authOpts = append(authOpts, reviewOpts...)
	pubOpts, err := servePublish(ctx, c, log, st)
	if err != nil {
		return nil, err
	}
	mirrorOpts, err := serveMirror(ctx, c, log, st)
	if err != nil {
		return nil, err
	}
	corsOpts, err := serveCORS(c)
	if err != nil {
		return nil, err
	}
	tuneOpts, err := c.Tuning.apiOptions()
	if err != nil {
		return nil, err
	}
	pubOpts = append(append(append(pubOpts, mirrorOpts...), corsOpts...), tuneOpts...)
	return append(append([]api.Option{api.WithLogger(log)}, authOpts...), pubOpts...), nil
}

// flushKeysOnHUP makes SIGHUP flush the token issuers' key caches (as the admin operation
// flush-issuer-keys does) until the returned function is called.
func flushKeysOnHUP(svc *auth.Service, log *slog.Logger) (stop func()) {
	if svc == nil {
		return func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: flushing the token issuers' key caches", slog.Any("issuers", svc.Verifier().FlushKeys()))
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

func runServe(ctx context.Context, e *env, c *serveConfig) error {
	log, err := newLogger(e.stderr, c.LogFormat, c.LogLevel)
	if err != nil {
		return usageError(err)
	}
	c.Tuning.limitMemory(log)
	store, kind, err := openStore(ctx, c, log)
	if err != nil {
		if isCodedError(err) {
			return err
		}
		return fmt.Errorf("open %s store: %w", kind, err)
	}
	defer store.Close()
	if _, err := serveTLS(c, nil); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return usageErrorf("--addr %s: %v", c.Addr, err)
	}
	defer ln.Close()
	tlsCfg, err := serveTLS(c, ln)
	if err != nil {
		return err
	}
	c.resource = resourceFromListener(ln, tlsCfg != nil)
	opts, err := apiOptions(ctx, c, log, store)
	if err != nil {
		return err
	}
	srv, err := api.New(store, opts...)
	if err != nil {
		return err
	}
	handler, err := serveUI(ctx, e, c, log, srv)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           serveHandler(c.authSvc, handler),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	stopHUP := flushKeysOnHUP(c.authSvc, log)
	defer stopHUP()
	jctx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	if err := c.jobs.Start(jctx); err != nil {
		return err
	}
	b := api.Build()
	log.Info("serving", slog.String("version", b.Version), slog.String("commit", b.GitCommit), slog.String("build_time", b.BuildTime), slog.String("addr", ln.Addr().String()), slog.String("store", kind), slog.String("url", c.resource), slog.Bool("tls", tlsCfg != nil))
	return serveUntilDone(ctx, c, log, hs, ln, tlsCfg != nil)
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, c *serveConfig, log *slog.Logger, hs *http.Server, ln net.Listener, tls bool) error {
	served := make(chan error, 1)
	go func() {
		if tls {
			served <- hs.ServeTLS(ln, "", "")
			return
		}
		served <- hs.Serve(ln)
	}()
	if c.ready != nil {
		c.ready <- c.resource
	}
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
