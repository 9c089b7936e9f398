package main

import (
	"encoding/json"
	"fmt"
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

The audience and issuer default to the registry's URL from the auth section of --config
(auth.audience, auth.self_issuer.issuer, auth.resource), else http://127.0.0.1:8080.

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
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory holding the issuer key (default $VETTED_DATA_DIR or "+tokenDefaultDataDir+")")
	fl.StringVar(&f.config, "config", "", "vetted.yaml to read the auth section from (default $VETTED_CONFIG, else ./vetted.yaml if present)")
	fl.StringVar(&f.subject, "subject", "vetted-token-cli", "subject (sub) of the token")
	fl.StringVar(&f.audience, "audience", "", "audience (aud): the registry's URL")
	fl.StringVar(&f.issuer, "issuer", "", "issuer (iss) the registry knows its embedded issuer by")
	fl.BoolVar(&f.json, "json", false, "print JSON instead of the bare token")
	return cmd
}

func runTokenIssue(cmd *cobra.Command, e *env, f tokenIssueFlags) error {
	if f.dataDir == "" {
		f.dataDir = e.getenv("VETTED_DATA_DIR")
	}
	if f.dataDir == "" {
		f.dataDir = tokenDefaultDataDir
	}
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
	resource := cfg.resource("http://" + tokenDefaultAddr)
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
		fmt.Fprintf(e.stderr, "vetted: created the embedded issuer key in %s\n", f.dataDir)
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
