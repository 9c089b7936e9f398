package toolmanifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestLintRealServers lints the tool manifests of real MCP servers captured from npm
// (testdata/servers/README.md): none may have a finding at high or critical, and the
// collision rule (TM701) must not fire on a server's own tools when the lint knows which
// server it is.
func TestLintRealServers(t *testing.T) {
	dir := filepath.Join("testdata", "servers")
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Servers []struct {
			File, Package, Version string
			Tools                  int
		} `json:"servers"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Servers) < 30 {
		t.Errorf("%d real servers, want at least 30", len(idx.Servers))
	}
	counts := map[Severity]int{}
	for _, s := range idx.Servers {
		data, err := os.ReadFile(filepath.Join(dir, s.File))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		if len(m.Tools) != s.Tools {
			t.Errorf("%s: %d tools, index says %d", s.File, len(m.Tools), s.Tools)
		}
		for _, f := range Lint(m, LintOptions{Server: s.Package}) {
			counts[f.Severity]++
			if f.Severity >= High {
				t.Errorf("%s@%s: %s %s %s %s: %s", s.Package, s.Version, f.Severity, f.Rule, f.Tool, f.Pointer, f.Message)
			}
			if f.Rule == RuleNameCollision {
				t.Errorf("%s: TM701 on its own tool %s: %s", s.Package, f.Tool, f.Message)
			}
		}
	}
	t.Logf("%d servers: findings by severity %v", len(idx.Servers), counts)
}

// TestCollisionKnowsTheServer: the same tool name is a collision from an unrelated server
// and not from the server itself.
func TestCollisionKnowsTheServer(t *testing.T) {
	m := mustParse(t, `{"tools":[{"name":"query","description":"Run a read-only SQL query."}]}`)
	if fs := Lint(m, LintOptions{Server: "io.example/analytics"}); len(fs) != 1 || fs[0].Rule != RuleNameCollision {
		t.Fatalf("unrelated server: want TM701, got %+v", fs)
	}
	if fs := Lint(m, LintOptions{Server: "@modelcontextprotocol/server-postgres"}); len(fs) != 0 {
		t.Fatalf("the postgres server itself: want no finding, got %+v", fs)
	}
}

// TestCollisionChecksTheNamespace: a server named after a well-known one is that server only
// from its owners' namespace (registry name, npm scope or repository); from any other
// namespace, even with all of its tools, its tools collide.
func TestCollisionChecksTheNamespace(t *testing.T) {
	one := mustParse(t, `{"tools":[{"name":"read_file","description":"Read a file."}]}`)
	all := `{"tools":[`
	for i, n := range wellKnownTools["filesystem"] {
		if i > 0 {
			all += ","
		}
		all += `{"name":"` + n + `","description":"File operation."}`
	}
	full := mustParse(t, all+`]}`)
	for _, c := range []struct {
		server string
		m      *Manifest
		want   int // TM701 findings
	}{
		{"io.github.modelcontextprotocol/server-filesystem", one, 0},
		{"io.github.ModelContextProtocol/filesystem", full, 0},
		{"npm:@modelcontextprotocol/server-filesystem@2025.8.21", one, 0},
		{"filesystem", one, 0}, // no namespace: the name alone
		{"io.github.evil/server-filesystem", one, 1},
		{"@evil/server-filesystem", one, 1},
		{"io.github.evil/server-filesystem", full, len(wellKnownTools["filesystem"])},
		{"io.github.alice/files", full, 0}, // another name with the same tools: a fork
		{"io.github.evil/weather", one, 1},
		{"io.github.github/github-mcp-server", mustParse(t, `{"tools":[{"name":"create_issue","description":"Open an issue."}]}`), 0},
	} {
		n := 0
		for _, f := range Lint(c.m, LintOptions{Server: c.server}) {
			if f.Rule == RuleNameCollision {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%s with %d tool(s): %d TM701 findings, want %d", c.server, len(c.m.Tools), n, c.want)
		}
	}
}
