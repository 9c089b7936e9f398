package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
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
	for _, want := range []string{"proxy ready", "tool withheld: definition does not match the pin", `msg="refused tool call" tool=get_weather`, `tool=exfiltrate`} {
		if !strings.Contains(l, want) {
			t.Errorf("logs lack %q:\n%s", want, l)
		}
	}
}
