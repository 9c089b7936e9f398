package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/internal/mcp/mcptest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProxyCommandBlocksRugPull runs `vetted proxy --pin … -- <test MCP server>` with a host
// on its stdin/stdout, pulls the rug (the server swaps get_weather at runtime and sends
// tools/list_changed) and checks that the proxy withholds and refuses the changed tool while
// still serving the unchanged ones.
func TestProxyCommandBlocksRugPull(t *testing.T) {
	pin := capturePin(t)
	hostIn, proxyOut := io.Pipe()
	proxyIn, hostOut := io.Pipe()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	args := append([]string{"proxy", "--pin", pin}, serverCmd(t, "v1")...)
	go func() {
		done <- run(ctx, args, &env{stdin: proxyIn, stdout: proxyOut, stderr: logs, getenv: func(string) string { return "" }})
		_ = proxyOut.Close()
	}()
	host, err := mcp.NewClient(&mcp.Implementation{Name: "host", Version: "1"}, nil).
		Connect(ctx, &mcp.IOTransport{Reader: hostIn, Writer: hostOut}, nil)
	if err != nil {
		t.Fatalf("host connect: %v\nlogs:\n%s", err, logs.String())
	}
	names := func() string {
		var n []string
		for tool, err := range host.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			n = append(n, tool.Name)
		}
		return strings.Join(n, ",")
	}
	call := func(name string, args any) (string, error) {
		res, err := host.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			return "", err
		}
		return res.Content[0].(*mcp.TextContent).Text, nil
	}
	if got := names(); got != "add,echo,get_weather,rug_pull" {
		t.Fatalf("served: %s", got)
	}
	if out, err := call("get_weather", map[string]any{"city": "Oslo"}); err != nil || out != "sunny in Oslo" {
		t.Fatalf("get_weather: %q %v", out, err)
	}
	if _, err := call("rug_pull", map[string]any{}); err != nil {
		t.Fatalf("rug_pull: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for names() != "add,echo,rug_pull" {
		if time.Now().After(deadline) {
			t.Fatalf("proxy still serves %s after the rug pull\nlogs:\n%s", names(), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := call("get_weather", map[string]any{"city": "Oslo"}); err == nil || !strings.Contains(err.Error(), `vetted proxy refused tool "get_weather": definition changed since it was pinned`) {
		t.Fatalf("changed tool not refused: %v", err)
	}
	if out, err := call("echo", map[string]any{"text": "still here"}); err != nil || out != "still here" {
		t.Fatalf("unchanged tool: %q %v", out, err)
	}
	if _, err := call("exfiltrate", map[string]any{}); err == nil || !strings.Contains(err.Error(), `vetted proxy refused tool "exfiltrate": unknown tool`) {
		t.Fatalf("unknown tool: %v", err)
	}
	_ = host.Close()
	select {
	case err := <-done:
		if ExitCode(err) != 0 {
			t.Fatalf("proxy exit %d: %v", ExitCode(err), err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("proxy did not exit after the host disconnected")
	}
	l := logs.String()
	for _, want := range []string{"proxy ready", `msg="tool withheld" tool=get_weather reason="definition changed`, `msg="refused tool call" tool=get_weather`, `tool=exfiltrate`} {
		if !strings.Contains(l, want) {
			t.Errorf("logs lack %q:\n%s", want, l)
		}
	}
}

// cliHelperEnv, when set in a test binary's environment, makes TestVettedCLIHelper run the
// vetted command line it holds (JSON array) on the real stdin/stdout and exit: the test
// binary then stands in for the vetted executable in a subprocess.
const cliHelperEnv = "VETTED_TEST_CLI_ARGS"

func TestVettedCLIHelper(t *testing.T) {
	raw := os.Getenv(cliHelperEnv)
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		os.Exit(2)
	}
	err := run(context.Background(), args, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	os.Exit(ExitCode(err))
}

// TestCheckThroughProxy: `vetted check --pin X -- vetted proxy --pin X -- SERVER` passes, so
// the proxy serves each pinned tool exactly as pinned (unknown members included), and a
// rug-pulled server behind the proxy shows the changed tool as withheld.
func TestCheckThroughProxy(t *testing.T) {
	t.Setenv(mcptest.VariantEnv, "extras")
	pin := filepath.Join(t.TempDir(), "tools.json")
	if _, stderr, code := runTools(t, append([]string{"tools", "capture", "-o", pin, "--"}, mcptest.HelperArgs("TestMCPServerHelper")...)...); code != 0 {
		t.Fatalf("capture: %d %s", code, stderr)
	}
	inner := append([]string{"proxy", "--pin", pin, "--"}, mcptest.HelperArgs("TestMCPServerHelper")...)
	b, _ := json.Marshal(inner)
	t.Setenv(cliHelperEnv, string(b))
	proxyCmd := append([]string{"--"}, mcptest.HelperArgs("TestVettedCLIHelper")...)
	out, stderr, code := runTools(t, append([]string{"check", "--pin", pin}, proxyCmd...)...)
	if code != 0 || !strings.HasPrefix(out, "OK: 4 tools identical") {
		t.Fatalf("check through the proxy: exit %d\n%s%s", code, out, stderr)
	}

	t.Setenv(mcptest.VariantEnv, "rugpulled")
	out, stderr, code = runTools(t, append([]string{"check", "--pin", pin}, proxyCmd...)...)
	if code != 1 || !strings.Contains(out, "removed get_weather") {
		t.Fatalf("rug pull behind the proxy: exit %d\n%s%s", code, out, stderr)
	}
}
