//lint:file-ignore SA1019 the proxy must pass roots, sampling and logging through unchanged while the protocol still has them, so the tests drive those deprecated features

package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
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

// lines records every newline-delimited frame written through it.
type lines struct {
	w   io.WriteCloser
	buf syncBuffer
}

func (l *lines) Write(p []byte) (int, error) {
	_, _ = l.buf.Write(p)
	return l.w.Write(p)
}
func (l *lines) Close() error { return l.w.Close() }
func (l *lines) frames() []string {
	return strings.Split(strings.TrimSpace(l.buf.String()), "\n")
}

type harness struct {
	proxy      *Proxy
	host       *mcp.ClientSession
	refresh    chan []string
	logs       *syncBuffer
	fromServer *lines // frames the server wrote
	toHost     *lines // frames the proxy wrote to the host
}

func inMemoryPin(t *testing.T, s *mcptest.Server) *toolmanifest.Manifest {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), s.Transport(st), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	m, err := capture.Capture(context.Background(), capture.Transport(ct, "in-memory"), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// startWith runs s over a stdio-like pipe, the proxy in front of it, and a go-sdk host
// client behind the proxy.
func startWith(t *testing.T, s *mcptest.Server, pin *toolmanifest.Manifest, copts *mcp.ClientOptions, roots ...*mcp.Root) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{refresh: make(chan []string, 16), logs: &syncBuffer{}}
	sr, pw := io.Pipe()
	pr, sw := io.Pipe()
	h.fromServer = &lines{w: sw}
	ss, err := s.Connect(ctx, s.Transport(&mcp.IOTransport{Reader: sr, Writer: h.fromServer}), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	h.proxy = New(pin, Stream(pr, pw, 1<<20), Options{
		Logger:    slog.New(slog.NewTextHandler(h.logs, nil)),
		OnRefresh: func(served []string) { h.refresh <- served },
	})
	hr, hw := io.Pipe()
	or, ow := io.Pipe()
	h.toHost = &lines{w: ow}
	go func() { _ = h.proxy.Run(ctx, hr, h.toHost); _ = ow.Close() }()
	client := mcp.NewClient(&mcp.Implementation{Name: "host", Version: "1"}, copts)
	client.AddRoots(roots...)
	host, err := client.Connect(ctx, legacyHost{&mcp.IOTransport{Reader: or, Writer: hw}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	h.host = host
	select {
	case <-h.refresh: // the check after initialization
	case <-time.After(10 * time.Second):
		t.Fatal("no check after initialization")
	}
	return h
}

func start(t *testing.T, s *mcptest.Server, pin *toolmanifest.Manifest) *harness {
	return startWith(t, s, pin, nil)
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

func TestProxyBlocksRugPull(t *testing.T) {
	s := mcptest.New()
	h := start(t, s, inMemoryPin(t, s))

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
	for _, want := range []string{`msg="refused tool call" tool=get_weather`, `msg="refused tool call" tool=delete_everything`, `msg="tool withheld" tool=get_weather reason="definition changed`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestProxyServesOnlyPinnedTools(t *testing.T) {
	s := mcptest.New()
	full := inMemoryPin(t, s)
	// Pin only add and echo, plus a tool the server does not have.
	pin, err := toolmanifest.FromTools([]json.RawMessage{full.Tool("add").Raw, full.Tool("echo").Raw, json.RawMessage(`{"name":"ghost","inputSchema":{"type":"object"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, s, pin)
	if got := h.toolNames(t); got != "add,echo" {
		t.Fatalf("served = %s", got)
	}
	refused := h.proxy.Refused()
	if refused["get_weather"] != "not in the pinned manifest" || !strings.Contains(refused["ghost"], "no longer offers it") {
		t.Errorf("refused = %v", refused)
	}
	if _, err := h.call("rug_pull", nil); err == nil || !strings.Contains(err.Error(), "not in the pinned manifest") {
		t.Fatalf("unpinned tool call: %v", err)
	}
	if _, err := h.call("ghost", nil); err == nil || !strings.Contains(err.Error(), `refused tool "ghost": pinned, but the server no longer offers it`) {
		t.Fatalf("vanished tool call: %v", err)
	}
}

func TestProxyRepeatedRugPulls(t *testing.T) {
	s := mcptest.New()
	h := start(t, s, inMemoryPin(t, s))
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

// richServer is mcptest plus everything that is not a tool: instructions, a prompt, a
// resource, logging, and a tool that asks the host for sampling, roots and elicitation.
func richServer() *mcptest.Server {
	s := mcptest.New()
	inner := mcp.NewServer(&mcp.Implementation{Name: "mcptest-rich", Version: "2.3.4"}, &mcp.ServerOptions{
		Instructions: "Use add for sums; read mcptest://readme first.",
		PageSize:     2,
		HasPrompts:   true, HasResources: true,
	})
	s.Server = inner
	mcp.AddTool(inner, &mcp.Tool{Name: "add", Description: "Add two numbers.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			A float64 `json:"a"`
			B float64 `json:"b"`
		}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sum"}}}, nil, nil
		})
	mcp.AddTool(inner, &mcp.Tool{Name: "ask_host", Description: "Asks the host for a sample, its roots and a confirmation."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: "asking the host"})
			msg, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 5, Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}}})
			if err != nil {
				return nil, nil, err
			}
			roots, err := req.Session.ListRoots(ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			el, err := req.Session.Elicit(ctx, &mcp.ElicitParams{Message: "ok?", RequestedSchema: map[string]any{"type": "object"}})
			if err != nil {
				return nil, nil, err
			}
			text := msg.Content.(*mcp.TextContent).Text + "|" + roots.Roots[0].URI + "|" + el.Action
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	inner.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Say hello."}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hello"}}}}, nil
	})
	inner.AddResource(&mcp.Resource{URI: "mcptest://readme", Name: "readme", MIMEType: "text/plain"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "read me"}}}, nil
	})
	return s
}

// TestProxyIsTransparent checks that everything but withheld tools passes unchanged, both
// ways: the server's own initialize result, instructions, prompts, resources, logging,
// sampling, roots and elicitation, and that every frame the server sent reached the host
// byte for byte (tools/list pages included, unknown tool members too).
func TestProxyIsTransparent(t *testing.T) {
	s := richServer()
	s.Extras = map[string]map[string]json.RawMessage{"add": {
		"execution": json.RawMessage(`{"taskSupport":"optional"}`),
		"x-vendor":  json.RawMessage(`{"hidden":"kept","n":1}`),
	}}
	pin := inMemoryPin(t, s)
	var logged sync.WaitGroup
	logged.Add(1)
	var once sync.Once
	h := startWith(t, s, pin, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled"}}, nil
		},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
		},
		LoggingMessageHandler: func(context.Context, *mcp.LoggingMessageRequest) { once.Do(logged.Done) },
	}, &mcp.Root{URI: "file:///work", Name: "work"})
	ctx := context.Background()

	init := h.host.InitializeResult()
	if init.ServerInfo.Name != "mcptest-rich" || init.ServerInfo.Version != "2.3.4" || init.Instructions != "Use add for sums; read mcptest://readme first." || init.Capabilities.Prompts == nil || init.Capabilities.Resources == nil {
		t.Fatalf("initialize result not the server's own: %+v / %q", init.ServerInfo, init.Instructions)
	}
	prompt, err := h.host.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet"})
	if err != nil || prompt.Messages[0].Content.(*mcp.TextContent).Text != "hello" {
		t.Fatalf("prompt: %v %+v", err, prompt)
	}
	res, err := h.host.ReadResource(ctx, &mcp.ReadResourceParams{URI: "mcptest://readme"})
	if err != nil || res.Contents[0].Text != "read me" {
		t.Fatalf("resource: %v %+v", err, res)
	}
	if err := h.host.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatal(err)
	}
	out, err := h.call("ask_host", map[string]any{})
	if err != nil || out != "sampled|file:///work|accept" {
		t.Fatalf("server-to-host requests through the proxy: %q, %v", out, err)
	}
	logged.Wait()
	if got := h.toolNames(t); got != "add,ask_host" {
		t.Fatalf("tools %s", got)
	}

	// Every frame the server sent, except answers to the proxy's own requests, reached the
	// host unchanged and in order.
	var want []string
	for _, f := range h.fromServer.frames() {
		if !strings.Contains(f, `"id":"dev.vetted/proxy/`) {
			want = append(want, f)
		}
	}
	got := h.toHost.frames()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("host frames differ from server frames:\nserver: %s\nhost:   %s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if !strings.Contains(strings.Join(got, "\n"), `"execution":{"taskSupport":"optional"}`) {
		t.Error("unknown tool members did not reach the host")
	}
}

// TestProxyWithheldToolKeepsOtherBytes checks the one rewrite the proxy does: a withheld tool
// is cut from the tools array and everything else of the frame stays byte for byte.
func TestProxyWithheldToolKeepsOtherBytes(t *testing.T) {
	frame := []byte(`{"jsonrpc":"2.0", "id":7,"result":{ "tools" : [ {"name":"a","inputSchema":{"type":"object"},  "x":1} ,{"name":"b","inputSchema":{"type":"object"}}], "nextCursor":"c","_meta":{"k":[1,2]}}}`)
	pin, err := toolmanifest.FromTools([]json.RawMessage{json.RawMessage(`{"name":"a","x":1,"inputSchema":{"type":"object"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	p := New(pin, nil, Options{})
	f, err := ParseFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	got := string(p.filterTools(f))
	want := `{"jsonrpc":"2.0", "id":7,"result":{ "tools" : [{"name":"a","inputSchema":{"type":"object"},  "x":1}], "nextCursor":"c","_meta":{"k":[1,2]}}}`
	if got != want {
		t.Fatalf("filtered frame\n got %s\nwant %s", got, want)
	}
	// Unchanged when nothing is withheld.
	pin2, _ := toolmanifest.FromTools([]json.RawMessage{json.RawMessage(`{"name":"a","x":1,"inputSchema":{"type":"object"}}`), json.RawMessage(`{"name":"b","inputSchema":{"type":"object"}}`)})
	if got := New(pin2, nil, Options{}).filterTools(f); !bytes.Equal(got, frame) {
		t.Fatalf("nothing withheld, but frame changed: %s", got)
	}
}

func TestParseFrameStrict(t *testing.T) {
	cases := []struct{ frame, why string }{
		{`{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, `member "method" appears twice`},
		{`{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, `member "Method" is a case variant of "method"`},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, "id must be a string, a number or null"},
		{`{"jsonrpc":"1.0","id":1,"method":"ping"}`, `"jsonrpc" must be "2.0"`},
		{`{"jsonrpc":"2.0","id":1,"result":{},"error":{}}`, "either a result or an error"},
		{`{"jsonrpc":"2.0","id":1}`, "neither a method nor a result"},
		{`[]`, "empty batch"},
		{`{"jsonrpc":"2.0","method":"x"} trailing`, "data after the object"},
	}
	for _, c := range cases {
		_, err := ParseFrame([]byte(c.frame))
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: got %v, want %q", c.frame, err, c.why)
		}
	}
	if _, err := callName(json.RawMessage(`{"name":"a","NAME":"b"}`)); err == nil || !strings.Contains(err.Error(), "case variant") {
		t.Errorf("case-variant tool name: %v", err)
	}
}

// TestProxyRefusesAmbiguousCall: a tools/call the server might read differently (two names)
// is refused and never forwarded.
func TestProxyRefusesAmbiguousCall(t *testing.T) {
	s := mcptest.New()
	pr, pw := io.Pipe()
	var out syncBuffer
	p := New(inMemoryPin(t, s), Stream(pr, pw, 1<<20), Options{})
	in := strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add","name":"rug_pull"}}` + "\n")
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), in, &out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("proxy did not return at host EOF")
	}
	if !strings.Contains(out.String(), `"id":9`) || !strings.Contains(out.String(), `refused the call: tools/call params: malformed JSON-RPC frame: member \"name\" appears twice`) {
		t.Fatalf("host got %s", out.String())
	}
}

// TestProxyOverHTTPUpstream runs the rug pull with the server behind streamable HTTP: the
// tools/list_changed notification arrives on the standalone SSE stream.
func TestProxyOverHTTPUpstream(t *testing.T) {
	s := mcptest.New()
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.Server }, nil))
	t.Cleanup(srv.Close)
	pin, err := capture.Capture(context.Background(), capture.HTTP(srv.URL, srv.Client()), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refresh := make(chan []string, 16)
	p := New(pin, HTTP(srv.URL, srv.Client(), 1<<20), Options{OnRefresh: func(s []string) { refresh <- s }})
	hr, hw := io.Pipe()
	or, ow := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = p.Run(ctx, hr, ow); _ = ow.Close() }()
	host, err := mcp.NewClient(&mcp.Implementation{Name: "host", Version: "1"}, nil).Connect(ctx, legacyHost{&mcp.IOTransport{Reader: or, Writer: hw}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	if got := strings.Join(<-refresh, ","); got != "add,echo,get_weather,rug_pull" {
		t.Fatalf("served %s", got)
	}
	if init := host.InitializeResult(); init.ServerInfo.Name != "mcptest" {
		t.Fatalf("serverInfo %+v", init.ServerInfo)
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
	_, err = host.CallTool(ctx, &mcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "x"}})
	if err == nil || !strings.Contains(err.Error(), "definition changed since it was pinned") {
		t.Fatalf("changed tool over HTTP: %v", err)
	}
	r, err := host.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil || r.Content[0].(*mcp.TextContent).Text != "hi" {
		t.Fatalf("echo over HTTP: %v", err)
	}
}

// legacyHost makes a go-sdk client behave like today's hosts, which open sessions with
// initialize (protocol 2025-11-25): its server/discover request is answered locally with
// "method not found", on which the SDK falls back to initialize.
type legacyHost struct{ mcp.Transport }

func (l legacyHost) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := l.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &legacyConn{Connection: c, injected: make(chan jsonrpc.Message, 1)}, nil
}

type legacyConn struct {
	mcp.Connection
	injected chan jsonrpc.Message
}

func (c *legacyConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "server/discover" {
		c.injected <- &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: -32601, Message: "method not found"}}
		return nil
	}
	return c.Connection.Write(ctx, msg)
}

func (c *legacyConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case m := <-c.injected:
		return m, nil
	default:
	}
	type res struct {
		m   jsonrpc.Message
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := c.Connection.Read(ctx); ch <- res{m, err} }()
	select {
	case m := <-c.injected:
		go func() { r := <-ch; c.requeue(r.m, r.err) }()
		return m, nil
	case r := <-ch:
		return r.m, r.err
	}
}

func (c *legacyConn) requeue(m jsonrpc.Message, err error) {
	if err == nil {
		c.injected <- m
	}
}
