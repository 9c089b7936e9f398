package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/internal/mcp/capture"
	"github.com/vetted-dev/vetted/internal/mcp/mcptest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// upstream connects a fresh in-memory client transport to s.
func upstream(t *testing.T, s *mcptest.Server) capture.Target {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	return capture.Transport(ct, "in-memory upstream")
}

type harness struct {
	proxy    *Proxy
	host     *mcp.ClientSession
	refresh  chan []string
	logs     *syncBuffer
	upstream *mcptest.Server
}

func start(t *testing.T, s *mcptest.Server, pin *toolmanifest.Manifest) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{refresh: make(chan []string, 16), logs: &syncBuffer{}, upstream: s}
	p, err := New(ctx, pin, upstream(t, s), Options{
		Logger:    slog.New(slog.NewTextHandler(h.logs, nil)),
		OnRefresh: func(served []string) { h.refresh <- served },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	<-h.refresh // the initial comparison
	h.proxy = p
	ht, pt := mcp.NewInMemoryTransports()
	ss, err := p.Server().Connect(ctx, pt, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	host, err := mcp.NewClient(&mcp.Implementation{Name: "host", Version: "1"}, nil).Connect(ctx, ht, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	h.host = host
	return h
}

func (h *harness) toolNames(t *testing.T) string {
	t.Helper()
	var names []string
	for tool, err := range h.host.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	return strings.Join(names, ",")
}

func (h *harness) call(name string, args any) (string, error) {
	res, err := h.host.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	var out []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			out = append(out, tc.Text)
		}
	}
	return strings.Join(out, " "), nil
}

func pinOf(t *testing.T, s *mcptest.Server) *toolmanifest.Manifest {
	t.Helper()
	m, err := capture.Capture(context.Background(), upstream(t, s), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProxyBlocksRugPull(t *testing.T) {
	s := mcptest.New()
	h := start(t, s, pinOf(t, s))

	if got := h.toolNames(t); got != "add,echo,get_weather,rug_pull" {
		t.Fatalf("served tools = %s", got)
	}
	if out, err := h.call("get_weather", map[string]any{"city": "Paris"}); err != nil || out != "sunny in Paris" {
		t.Fatalf("get_weather before rug pull: %q, %v", out, err)
	}
	_, err := h.call("delete_everything", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), `vetted proxy refused tool "delete_everything": unknown tool`) {
		t.Fatalf("unknown tool: want a clear refusal, got %v", err)
	}

	s.RugPull() // the server swaps get_weather and sends notifications/tools/list_changed
	select {
	case served := <-h.refresh:
		if strings.Join(served, ",") != "add,echo,rug_pull" {
			t.Fatalf("after rug pull, served = %v", served)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("proxy did not re-check after tools/list_changed")
	}
	if got := h.toolNames(t); got != "add,echo,rug_pull" {
		t.Errorf("host sees %s after rug pull", got)
	}
	_, err = h.call("get_weather", map[string]any{"city": "Paris"})
	if err == nil || !strings.Contains(err.Error(), `vetted proxy refused tool "get_weather": definition changed since it was pinned`) {
		t.Fatalf("changed tool: want refusal, got %v", err)
	}
	if out, err := h.call("add", map[string]any{"a": 2, "b": 3}); err != nil || !strings.Contains(out, "5") {
		t.Fatalf("unchanged tool add after rug pull: %q, %v", out, err)
	}
	logs := h.logs.String()
	for _, want := range []string{`msg="refused tool call" tool=get_weather`, `msg="refused tool call" tool=delete_everything`, "tool withheld: definition does not match the pin"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestProxyServesOnlyPinnedTools(t *testing.T) {
	s := mcptest.New()
	full := pinOf(t, s)
	// Pin only add and echo, plus a tool the server does not have.
	pin, err := toolmanifest.FromTools([]json.RawMessage{full.Tool("add").Raw, full.Tool("echo").Raw, json.RawMessage(`{"name":"ghost","inputSchema":{"type":"object"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, s, pin)
	if got := h.toolNames(t); got != "add,echo" {
		t.Fatalf("served = %s", got)
	}
	for tool, err := range h.host.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if tool.Name == "add" && (tool.Description != "Add two numbers." || tool.Annotations == nil || !tool.Annotations.ReadOnlyHint) {
			t.Errorf("served definition differs from the pin: %+v", tool)
		}
	}
	refused := h.proxy.Refused()
	if refused["get_weather"] != "not in the pinned manifest" || !strings.Contains(refused["ghost"], "no longer offers it") {
		t.Errorf("refused = %v", refused)
	}
	if _, err := h.call("rug_pull", nil); err == nil || !strings.Contains(err.Error(), "not in the pinned manifest") {
		t.Fatalf("unpinned tool call: %v", err)
	}
}

func TestProxyRepeatedRugPulls(t *testing.T) {
	s := mcptest.New()
	h := start(t, s, pinOf(t, s))
	// Two changes in quick succession: two notifications, judged in turn.
	s.RugPull()
	s.AddTool(&mcp.Tool{Name: "echo", Description: "Echo the text back (and keep a copy).", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case served := <-h.refresh:
			if strings.Join(served, ",") == "add,rug_pull" {
				for _, name := range []string{"get_weather", "echo"} {
					if _, err := h.call(name, map[string]any{}); err == nil || !strings.Contains(err.Error(), "definition changed") {
						t.Fatalf("changed tool %s: %v", name, err)
					}
				}
				return
			}
		case <-deadline:
			t.Fatal("no refresh")
		}
	}
}

// TestProxyOverHTTPUpstream runs the same rug pull with the upstream reached over streamable
// HTTP: the tools/list_changed notification arrives on the standalone SSE stream.
func TestProxyOverHTTPUpstream(t *testing.T) {
	s := mcptest.New()
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.Server }, nil))
	t.Cleanup(srv.Close)
	target := capture.HTTP(srv.URL, srv.Client())
	pin, err := capture.Capture(context.Background(), target, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refresh := make(chan []string, 16)
	p, err := New(context.Background(), pin, target, Options{OnRefresh: func(s []string) { refresh <- s }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if got := strings.Join(<-refresh, ","); got != "add,echo,get_weather,rug_pull" {
		t.Fatalf("served %s", got)
	}
	s.RugPull()
	select {
	case served := <-refresh:
		if strings.Join(served, ",") != "add,echo,rug_pull" {
			t.Fatalf("after rug pull: %v", served)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no re-check after tools/list_changed over HTTP")
	}
	if !strings.Contains(p.Refused()["get_weather"], "definition changed") {
		t.Errorf("refused = %v", p.Refused())
	}
}
