package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/internal/mcp/capture"
)

// Log attribute keys.
const (
	keyTool   = "tool"
	keyReason = "reason"
	keyLive   = "live_digest"
	keyPinned = "pinned_digest"
)

// RefusedCode is the JSON-RPC error code of a refused call (invalid params, as the SDK
// uses for unknown tools).
const RefusedCode = jsonrpc.CodeInvalidParams

// Options configure a Proxy.
type Options struct {
	// Logger receives one warning per withheld tool and per refused call; nil discards.
	Logger *slog.Logger
	// Capture bounds the upstream connection and every tools/list.
	Capture capture.Options
	// OnRefresh, if set, is called after every comparison with the pin (for tests and
	// metrics), with the tools now served.
	OnRefresh func(served []string)
}

// Proxy serves the pinned subset of an upstream server's tools.
type Proxy struct {
	pin      *toolmanifest.Manifest
	upstream *capture.Session
	server   *mcp.Server
	log      *slog.Logger
	onResult func([]string)

	// mu guards the fields below. A tools/list_changed notification marks the proxy dirty
	// and replaces idle with an open channel; calls wait on idle, which is closed once the
	// new list has been judged, so that they wait for the verdict instead of racing it.
	mu      sync.Mutex
	served  map[string]bool   // tools currently offered downstream
	refused map[string]string // tool -> why it is refused
	dirty   bool
	running bool
	idle    chan struct{}
}

// New connects to the upstream server, compares its tools with the pin and returns a proxy
// ready to Run. It fails when the upstream cannot be reached or listed.
func New(ctx context.Context, pin *toolmanifest.Manifest, target capture.Target, opts Options) (*Proxy, error) {
	p := &Proxy{pin: pin, log: opts.Logger, onResult: opts.OnRefresh, served: map[string]bool{}, refused: map[string]string{}, idle: make(chan struct{})}
	close(p.idle)
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	copts := opts.Capture
	clientOpts := &mcp.ClientOptions{}
	if copts.ClientOptions != nil {
		*clientOpts = *copts.ClientOptions
	}
	clientOpts.ToolListChangedHandler = p.onListChanged
	copts.ClientOptions = clientOpts
	p.server = mcp.NewServer(&mcp.Implementation{Name: "vetted-proxy", Version: "v1"}, &mcp.ServerOptions{
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
		Logger:       p.log,
	})
	p.server.AddReceivingMiddleware(p.guard)
	up, err := capture.Connect(ctx, target, copts)
	if err != nil {
		return nil, err
	}
	p.upstream = up
	if err := p.refresh(ctx); err != nil {
		_ = up.Close()
		return nil, err
	}
	return p, nil
}

// Server is the downstream MCP server (to run on any transport).
func (p *Proxy) Server() *mcp.Server { return p.server }

// Run serves the host on t until the host disconnects or ctx ends.
func (p *Proxy) Run(ctx context.Context, t mcp.Transport) error { return p.server.Run(ctx, t) }

// Close disconnects from the upstream server.
func (p *Proxy) Close() error { return p.upstream.Close() }

// Served returns the names of the tools currently offered, sorted.
func (p *Proxy) Served() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.servedLocked()
}

func (p *Proxy) servedLocked() []string {
	out := make([]string, 0, len(p.served))
	for n := range p.served {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Refused returns why each withheld tool is withheld.
func (p *Proxy) Refused() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.refused))
	for k, v := range p.refused {
		out[k] = v
	}
	return out
}

func (p *Proxy) onListChanged(context.Context, *mcp.ToolListChangedRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirty = true
	select {
	case <-p.idle:
		p.idle = make(chan struct{})
	default:
	}
	if !p.running {
		p.running = true
		go p.refreshLoop()
	}
}

// refreshLoop re-judges the tools until no notification arrived during the last round.
func (p *Proxy) refreshLoop() {
	for {
		p.mu.Lock()
		if !p.dirty {
			p.running = false
			close(p.idle)
			p.mu.Unlock()
			return
		}
		p.dirty = false
		p.mu.Unlock()
		if err := p.refresh(context.Background()); err != nil {
			p.log.Error("re-checking tools after tools/list_changed failed; serving nothing", "error", err)
		}
	}
}

// refresh lists the upstream tools, compares them with the pin and updates what is served.
// Only one refresh runs at a time (New, then refreshLoop).
func (p *Proxy) refresh(ctx context.Context) error {
	live, err := p.upstream.ListTools(ctx)
	if err != nil {
		// Fail closed.
		p.withdrawAll(fmt.Sprintf("the server's tools could not be listed: %v", err))
		return err
	}
	refused := map[string]string{}
	allow := map[string]*toolmanifest.Tool{}
	for _, pt := range p.pin.Tools {
		lt := live.Tool(pt.Name)
		switch {
		case lt == nil:
			refused[pt.Name] = "pinned, but the server no longer offers it"
		case lt.Digest != pt.Digest:
			refused[pt.Name] = fmt.Sprintf("definition changed since it was pinned (live %s, pinned %s)", lt.Digest, pt.Digest)
			p.log.Warn("tool withheld: definition does not match the pin", keyTool, pt.Name, keyLive, lt.Digest, keyPinned, pt.Digest)
		default:
			allow[pt.Name] = pt
		}
	}
	for _, lt := range live.Tools {
		if p.pin.Tool(lt.Name) == nil {
			refused[lt.Name] = "not in the pinned manifest"
			p.log.Warn("tool withheld: not in the pinned manifest", keyTool, lt.Name, keyLive, lt.Digest)
		}
	}
	// Withdraw first (so that nothing changed stays callable), then add.
	p.mu.Lock()
	var remove []string
	for name := range p.served {
		if allow[name] == nil {
			remove = append(remove, name)
			delete(p.served, name)
		}
	}
	p.mu.Unlock()
	if len(remove) > 0 {
		p.server.RemoveTools(remove...)
	}
	added := map[string]bool{}
	for name, pt := range allow {
		p.mu.Lock()
		already := p.served[name]
		p.mu.Unlock()
		if already {
			continue
		}
		if err := p.addTool(pt); err != nil {
			refused[name] = err.Error()
			p.log.Warn("tool withheld: cannot be served", keyTool, name, keyReason, err.Error())
			continue
		}
		added[name] = true
	}
	p.mu.Lock()
	for name := range added {
		p.served[name] = true
	}
	p.refused = refused
	served := p.servedLocked()
	p.mu.Unlock()
	p.notify(served)
	return nil
}

func (p *Proxy) notify(served []string) {
	if p.onResult != nil {
		p.onResult(served)
	}
}

func (p *Proxy) withdrawAll(reason string) {
	p.mu.Lock()
	names := p.servedLocked()
	p.served = map[string]bool{}
	for _, pt := range p.pin.Tools {
		p.refused[pt.Name] = reason
	}
	p.mu.Unlock()
	if len(names) > 0 {
		p.server.RemoveTools(names...)
	}
	p.notify(nil)
}

// addTool offers the pinned definition of t downstream.
func (p *Proxy) addTool(t *toolmanifest.Tool) (err error) {
	var def mcp.Tool
	if err := json.Unmarshal(t.Raw, &def); err != nil {
		return fmt.Errorf("pinned definition cannot be served: %w", err)
	}
	if def.InputSchema == nil {
		def.InputSchema = map[string]any{"type": "object"}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pinned definition cannot be served: %v", r)
		}
	}()
	name := t.Name
	p.server.AddTool(&def, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		params := &mcp.CallToolParams{Meta: req.Params.Meta, Name: name}
		if len(req.Params.Arguments) > 0 {
			params.Arguments = req.Params.Arguments
		}
		return p.upstream.Client().CallTool(ctx, params)
	})
	return nil
}

// guard refuses tools/call for anything not currently served.
func (p *Proxy) guard(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		call, ok := req.(*mcp.CallToolRequest)
		if !ok || call.Params == nil {
			return next(ctx, method, req)
		}
		name := call.Params.Name
		p.mu.Lock()
		idle := p.idle
		p.mu.Unlock()
		select {
		case <-idle: // no re-check pending
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		p.mu.Lock()
		served := p.served[name]
		reason, known := p.refused[name]
		p.mu.Unlock()
		if served {
			return next(ctx, method, req)
		}
		if !known {
			reason = "unknown tool: not in the pinned manifest"
		}
		p.log.Warn("refused tool call", keyTool, name, keyReason, reason)
		return nil, &jsonrpc.Error{Code: RefusedCode, Message: fmt.Sprintf("vetted proxy refused tool %q: %s", name, reason)}
	}
}
