package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/api/auth"
)

// Defaults shared with serve: the data directory and the address the registry listens on
// when nothing else is configured (its URL is then the default audience and issuer).
const (
	tokenDefaultDataDir = "./vetted-data"
	tokenDefaultAddr    = "127.0.0.1:8080"
)

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "issue tokens signed by the embedded issuer",
		Long: `Vetted is a token issuer for itself: it keeps an Ed25519 key in its data directory
(auth/issuer-ed25519.pem, mode 0600, created on first use) and serves the public key at
/.well-known/jwks.json. Its tokens are verified exactly like those of any configured OIDC
issuer. Use them for publishers without an OIDC-capable CI, for reviewers, and for tests.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("token: missing subcommand (try \"vetted token issue --help\")")
		},
	}
	cmd.AddCommand(newTokenIssueCmd(e))
	return cmd
}

type tokenIssueFlags struct {
	roles      []string
	namespaces []string
	ttl        time.Duration
	dataDir    string
	config     string
	subject    string
	audience   string
	issuer     string
	json       bool
}

func newTokenIssueCmd(e *env) *cobra.Command {
	var f tokenIssueFlags
	cmd := &cobra.Command{
		Use:   "issue --role ROLE [--namespace PATTERN]... [--ttl 1h]",
		Short: "print a short-lived token signed with the data directory's key",
		Long: `Print a token signed by the embedded issuer. Roles: reader, publisher, reviewer, admin.
A publisher needs at least one --namespace pattern: "namespace/*" or "namespace/name",
compared exactly ("io.github.acme/*" does not cover "io.github.acme-evil/x").

It reads the same configuration as ` + "`vetted serve`" + `: --config (or $VETTED_CONFIG, else ./vetted.yaml
if present) and the VETTED_* variables. The data directory is --data-dir, else data-dir
($VETTED_DATA_DIR), else ./vetted-data. The audience and issuer default to the registry's URL:
auth.audience, auth.self_issuer.issuer or auth.resource, else http(s)://<addr> ($VETTED_ADDR,
addr, else 127.0.0.1:8080). It warns when it creates a new issuer key: a token signed by it is
accepted only by a registry serving that data directory.

--json prints {"token", "issuer", "audience", "subject", "roles", "namespaces", "expires_at"}.`,
		Example: `  vetted token issue --role publisher --namespace 'com.example/*' --ttl 1h
  vetted token issue --role reviewer --subject alice --data-dir /var/lib/vetted`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTokenIssue(cmd, e, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.roles, "role", nil, "role to grant (repeatable): reader, publisher, reviewer, admin")
	fl.StringArrayVar(&f.namespaces, "namespace", nil, "namespace pattern a publisher may publish (repeatable)")
	fl.DurationVar(&f.ttl, "ttl", time.Hour, fmt.Sprintf("lifetime of the token (at most %v)", auth.MaxSelfTokenTTL))
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory holding the issuer key (default $VETTED_DATA_DIR, data-dir of --config, else "+tokenDefaultDataDir+")")
	fl.StringVar(&f.config, "config", "", "vetted.yaml to read the auth section from (default $VETTED_CONFIG, else ./vetted.yaml if present)")
	fl.StringVar(&f.subject, "subject", "vetted-token-cli", "subject (sub) of the token")
	fl.StringVar(&f.audience, "audience", "", "audience (aud): the registry's URL")
	fl.StringVar(&f.issuer, "issuer", "", "issuer (iss) the registry knows its embedded issuer by")
	fl.BoolVar(&f.json, "json", false, "print JSON instead of the bare token")
	return cmd
}

// setting is a serve setting as `vetted serve` reads it: the flag's environment variable
// (VETTED_<FLAG>), else the configuration file's key, else def.
func (f *configFile) setting(e *env, flag, def string) string {
	if v := e.getenv(envName(flag)); v != "" {
		return v
	}
	if raw, ok := f.top[flag]; ok {
		if v, err := scalar(raw); err == nil && v != "" {
			return v
		}
	}
	return def
}

// serveResource is the registry's URL as `vetted serve` with this configuration derives it:
// auth.resource when configured, else from its address and TLS settings.
func (f *configFile) serveResource(e *env, cfg authConfig) string {
	scheme := "http://"
	if f.setting(e, "tls-cert", "") != "" {
		scheme = "https://"
	}
	addr := f.setting(e, "addr", tokenDefaultAddr)
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); (err == nil && ip.IsUnspecified()) || host == "" {
			addr = net.JoinHostPort("localhost", port)
		}
	}
	return cfg.resource(scheme + addr)
}

func runTokenIssue(cmd *cobra.Command, e *env, f tokenIssueFlags) error {
	required := f.config != ""
	if f.config == "" {
		f.config = e.getenv("VETTED_CONFIG")
		required = f.config != ""
	}
	if f.config == "" {
		f.config = defaultConfigPath
	}
	var cfg authConfig
	file, err := loadConfigFile(f.config, required)
	if err != nil {
		return usageError(err)
	}
	if err := file.Section("auth", &cfg); err != nil {
		return usageError(err)
	}
	if cfg.SelfIssuer.Disabled {
		return usageErrorf("token: the embedded issuer is disabled in %s (auth.self_issuer.disabled)", f.config)
	}
	// The same data directory and address as `vetted serve` with this configuration.
	if f.dataDir == "" {
		f.dataDir = file.setting(e, "data-dir", tokenDefaultDataDir)
	}
	resource := file.serveResource(e, cfg)
	if f.audience == "" {
		f.audience = cfg.audience(resource)
	}
	if f.issuer == "" {
		f.issuer = cfg.selfIssuer(resource)
	}
	if len(f.roles) == 0 {
		return usageErrorf("token issue: at least one --role is required (reader, publisher, reviewer, admin)")
	}
	var roles []auth.Role
	for _, r := range f.roles {
		role, err := auth.ParseRole(r)
		if err != nil {
			return usageError(err)
		}
		roles = append(roles, role)
	}
	si, created, err := auth.LoadOrCreateSelfIssuer(f.dataDir, f.issuer)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(e.stderr, "vetted: warning: created a new embedded issuer key in %s: only a registry serving this data directory accepts its tokens (is it the one `vetted serve` uses? set --data-dir, data-dir in %s or VETTED_DATA_DIR)\n",
			filepath.Join(f.dataDir, auth.KeyFile), f.config)
	}
	tok, exp, err := si.Issue(auth.TokenRequest{Subject: f.subject, Audience: f.audience, Roles: roles, Namespaces: f.namespaces, TTL: f.ttl})
	if err != nil {
		return usageError(err)
	}
	if !f.json {
		_, err = fmt.Fprintln(e.stdout, tok)
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Token      string    `json:"token"`
		Issuer     string    `json:"issuer"`
		Audience   string    `json:"audience"`
		Subject    string    `json:"subject"`
		Roles      []string  `json:"roles"`
		Namespaces []string  `json:"namespaces"`
		ExpiresAt  time.Time `json:"expires_at"`
	}{tok, f.issuer, f.audience, f.subject, f.roles, nonNil(f.namespaces), exp})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
