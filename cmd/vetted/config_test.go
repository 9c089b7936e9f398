package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// resolve runs the serve command's configuration steps with a RunE that records the result.
func resolve(t *testing.T, environ map[string]string, file string, args ...string) (serveConfig, error) {
	t.Helper()
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(k string) string { return environ[k] }}
	cmd := newServeCmd(e)
	var got serveConfig
	cmd.RunE = func(c *cobra.Command, a []string) error {
		// Same steps as serve, minus running the server.
		cp, _ := c.Flags().GetString("config")
		path, required := cp, c.Flags().Changed("config")
		if v := e.getenv(envName("config")); v != "" && !required {
			path, required = v, true
		}
		f, err := loadConfigFile(path, required)
		if err != nil {
			return usageError(err)
		}
		if err := applyConfig(c, e, f); err != nil {
			return usageError(err)
		}
		for _, n := range []struct {
			name string
			dst  *string
		}{{"addr", &got.Addr}, {"data-dir", &got.DataDir}, {"database", &got.Database}, {"log-format", &got.LogFormat}, {"log-level", &got.LogLevel}} {
			*n.dst, _ = c.Flags().GetString(n.name)
		}
		return nil
	}
	if file != "" {
		p := filepath.Join(t.TempDir(), "vetted.yaml")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	cmd.SetArgs(args)
	cmd.SetContext(context.Background())
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return got, cmd.Execute()
}

func TestConfigPrecedence(t *testing.T) {
	file := "addr: 127.0.0.1:1111\ndata-dir: /from/file\nlog-level: debug\n"
	cases := []struct {
		name    string
		environ map[string]string
		file    string
		args    []string
		want    serveConfig
	}{
		{"defaults", nil, "", nil, serveConfig{Addr: "127.0.0.1:8080", DataDir: "./vetted-data", LogFormat: "text", LogLevel: "info"}},
		{"file", nil, file, nil, serveConfig{Addr: "127.0.0.1:1111", DataDir: "/from/file", LogFormat: "text", LogLevel: "debug"}},
		{"env over file", map[string]string{"VETTED_DATA_DIR": "/from/env", "VETTED_LOG_FORMAT": "json"}, file, nil,
			serveConfig{Addr: "127.0.0.1:1111", DataDir: "/from/env", LogFormat: "json", LogLevel: "debug"}},
		{"flag over env", map[string]string{"VETTED_DATA_DIR": "/from/env"}, file, []string{"--data-dir", "/from/flag"},
			serveConfig{Addr: "127.0.0.1:1111", DataDir: "/from/flag", LogFormat: "text", LogLevel: "debug"}},
		{"database from env", map[string]string{"VETTED_DATABASE": "postgres://x/y"}, "", nil,
			serveConfig{Addr: "127.0.0.1:8080", DataDir: "./vetted-data", Database: "postgres://x/y", LogFormat: "text", LogLevel: "info"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolve(t, c.environ, c.file, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name    string
		environ map[string]string
		file    string
		args    []string
		why     string
	}{
		{"unknown key", nil, "adr: x\n", nil, "unknown setting(s) adr"},
		{"not a mapping", nil, "- a\n- b\n", nil, "top level must be a mapping"},
		{"structured value for a flag", nil, "addr: {a: 1}\n", nil, "addr: must be a single value"},
		{"missing explicit file", nil, "", []string{"--config", "/nonexistent/vetted.yaml"}, "no such file"},
		{"missing file from env", map[string]string{"VETTED_CONFIG": "/nonexistent/v.yaml"}, "", nil, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := resolve(t, c.environ, c.file, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.why) || ExitCode(err) != exitUsage {
				t.Fatalf("err = %v (exit %d), want exit 2 mentioning %q", err, ExitCode(err), c.why)
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		why  string
	}{
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--database", "mysql://x"}, "--database"},
		{[]string{"--addr", "256.0.0.1:bad"}, "--addr"},
		{[]string{"extra-arg"}, "unknown command"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		e := &env{stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(string) string { return "" }}
		args := append([]string{"serve", "--data-dir", t.TempDir()}, c.args...)
		err := run(context.Background(), args, e)
		if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), c.why) {
			t.Errorf("serve %v: %v (exit %d), want exit 2 mentioning %q", c.args, err, ExitCode(err), c.why)
		}
	}
}

func TestOpenAPICommand(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	if err := run(context.Background(), []string{"openapi"}, e); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "components:") || !strings.Contains(out.String(), "list-servers-v0.1") {
		t.Fatalf("openapi printed %.200s", out.String())
	}
}

// TestServeBrokenPolicyFailsAtStart: each namespace's verifier is built when serve starts
// (keys read, roots loaded), so a policy naming a key file that does not exist stops serve
// with a usage error before it listens, not at the first publish.
func TestServeBrokenPolicyFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("authorities:\n  - name: k\n    key: {path: missing.pub}\n"), 0o600)
	cfg := filepath.Join(dir, "vetted.yaml")
	os.WriteFile(cfg, []byte("publish:\n  policies:\n    - namespace: io.github.acme/*\n      policy: p.yaml\n"), 0o600)
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	err := run(context.Background(), []string{"serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, e)
	if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), "missing.pub") || !strings.Contains(err.Error(), "invalid policy") {
		t.Fatalf("serve: %v (exit %d)", err, ExitCode(err))
	}
}

// TestServeBadNPMConfigFailsAtStart: publish.npm keys and registries are checked when serve
// starts.
func TestServeBadNPMConfigFailsAtStart(t *testing.T) {
	for _, c := range []struct{ npm, why string }{
		{"    keys: [{keyid: k, key: AAAA}]\n", "key k"},
		{"    registries: [ftp://x]\n", "publish.npm.registries"},
		{"    regsitries: [https://x]\n", "regsitries"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("authorities:\n  - name: k\n    keyless: {issuer: https://i, subject: s}\n"), 0o600)
		cfg := filepath.Join(dir, "vetted.yaml")
		os.WriteFile(cfg, []byte("publish:\n  policies:\n    - namespace: '*'\n      policy: p.yaml\n  npm:\n"+c.npm), 0o600)
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
		err := run(context.Background(), []string{"serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, e)
		if ExitCode(err) != exitUsage || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v (exit %d)", c.npm, err, ExitCode(err))
		}
	}
}
