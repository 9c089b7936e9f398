package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

// Log attribute keys.
const (
	keyTool   = "tool"
	keyReason = "reason"
	keyLive   = "live_digest"
	keyPinned = "pinned_digest"
	keyMethod = "method"
	keyError  = "error"
)

// RefusedCode is the JSON-RPC error code of a refused call (invalid params, as the SDKs use
// for unknown tools).
const RefusedCode = -32602

// Defaults of Options.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxMessageBytes = toolmanifest.MaxManifestBytes
	maxPages               = 100
)

// Options configure a Proxy.
type Options struct {
	// Logger receives one warning per withheld tool, refused call and dropped frame; nil
	// discards.
	Logger *slog.Logger
	// Timeout bounds the proxy's own listing of the tools (and how long a call waits for it).
	Timeout time.Duration
	// MaxMessageBytes bounds every frame from the host.
	MaxMessageBytes int64
	// OnRefresh, if set, is called after every comparison with the pin (for tests and
	// metrics), with the tools now served.
	OnRefresh func(served []string)
}

// Proxy forwards one MCP session between a host and a server, withholding what does not
// match the pin.
type Proxy struct {
	pin      *toolmanifest.Manifest
	up       Upstream
	log      *slog.Logger
	timeout  time.Duration
	max      int64
	onResult func([]string)
	prefix   string

	outMu sync.Mutex
	out   io.Writer

	mu      sync.Mutex
	served  map[string]bool
	refused map[string]string
	checked bool // a listing has completed (or failed) at least once
	started bool // the host has initialized: the proxy may list
	// stateless is set for sessions opened with server/discover (protocol 2026-07-28 on):
	// list_changed reaches only hosts that subscribed, so every call is checked against a
	// fresh listing.
	stateless bool
	checkMu   sync.Mutex // serializes the synchronous checks of stateless sessions
	dirty     bool
	running   bool
	idle      chan struct{}
	seq       int
	own       map[string]chan *Frame // the proxy's own requests, by id key
	initIDs   map[string]bool        // initialize and server/discover requests in flight, by id key
	hostMeta  json.RawMessage        // params._meta of the host's latest request (stateless protocol versions need it on every request)
	closedCh  chan struct{}
}

// New returns a proxy for one session with the server behind up. Nothing is sent until Run.
func New(pin *toolmanifest.Manifest, up Upstream, opts Options) *Proxy {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	p := &Proxy{
		pin: pin, up: up, log: opts.Logger, timeout: opts.Timeout, max: opts.MaxMessageBytes, onResult: opts.OnRefresh,
		prefix: "dev.vetted/proxy/" + hex.EncodeToString(nonce[:]) + "/",
		served: map[string]bool{}, refused: map[string]string{}, idle: make(chan struct{}),
		own: map[string]chan *Frame{}, initIDs: map[string]bool{}, closedCh: make(chan struct{}),
	}
	close(p.idle)
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.max <= 0 {
		p.max = DefaultMaxMessageBytes
	}
	return p
}

// Served returns the names of the tools currently callable, sorted.
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

// Run forwards frames between the host (hostIn, hostOut: newline-delimited JSON-RPC, as the
// stdio transport) and the server until the host hangs up (nil) or the server goes away (an
// error). It closes the upstream when it returns.
func (p *Proxy) Run(ctx context.Context, hostIn io.Reader, hostOut io.Writer) error {
	p.out = hostOut
	defer p.up.Close()
	defer close(p.closedCh)
	upErr := make(chan error, 1)
	go func() { upErr <- p.fromServer(ctx) }()
	hostErr := make(chan error, 1)
	go func() { hostErr <- p.fromHost(ctx, hostIn) }()
	select {
	case err := <-hostErr:
		return err
	case err := <-upErr:
		if errors.Is(err, io.EOF) {
			return errors.New("the server closed the connection")
		}
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Proxy) toHost(frame []byte) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	_, _ = p.out.Write(append(bytes.TrimRight(frame, "\r\n"), '\n'))
}

func (p *Proxy) fromHost(ctx context.Context, in io.Reader) error {
	fr := newFrameReader(in, p.max)
	for {
		raw, err := fr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, ErrMessageTooLarge) {
				p.log.Warn("host sent a frame above the limit; closing", keyError, err.Error())
			}
			return fmt.Errorf("reading from the host: %w", err)
		}
		f, err := ParseFrame(raw)
		if err != nil {
			// A frame the proxy cannot read the way the server would is not forwarded.
			p.log.Warn("dropped a malformed frame from the host", keyError, err.Error())
			p.toHost(errorFrame(json.RawMessage("null"), -32700, "vetted proxy: "+err.Error()))
			continue
		}
		out, startCheck := p.hostFrame(ctx, f)
		if out == nil {
			continue
		}
		if err := p.up.Send(ctx, out); err != nil {
			p.log.Warn("sending to the server failed", keyError, err.Error())
			for _, id := range requestIDs(f) {
				p.toHost(errorFrame(id, -32603, "vetted proxy: "+err.Error()))
			}
			continue
		}
		if startCheck {
			p.markStarted()
		}
	}
}

// hostFrame returns what to forward for a frame from the host (nil: nothing), answering
// refused calls itself, and whether the host has just finished initializing.
func (p *Proxy) hostFrame(ctx context.Context, f *Frame) ([]byte, bool) {
	if f.Kind == KindBatch {
		var keep [][]byte
		changed, start := false, false
		for _, e := range f.Elems {
			o, s := p.hostFrame(ctx, e)
			start = start || s
			if o == nil {
				changed = true
				continue
			}
			keep = append(keep, o)
		}
		if !changed {
			return f.Raw, start
		}
		if len(keep) == 0 {
			return nil, start
		}
		return append(append([]byte{'['}, bytes.Join(keep, []byte{','})...), ']'), start
	}
	if f.Kind == KindRequest && f.Params != nil {
		if ms, err := members(f.Params, "_meta"); err == nil && ms["_meta"] != nil {
			p.mu.Lock()
			p.hostMeta = ms["_meta"]
			p.mu.Unlock()
		}
	}
	switch {
	case f.Kind == KindRequest && (f.Method == "initialize" || f.Method == "server/discover"):
		k, _ := idKey(f.ID)
		p.mu.Lock()
		p.initIDs[k] = f.Method == "initialize"
		p.mu.Unlock()
	case f.Kind == KindNotification && f.Method == "notifications/initialized":
		return f.Raw, true
	case f.Kind == KindRequest && f.Method == "tools/call":
		name, err := callName(f.Params)
		if err != nil {
			p.toHost(errorFrame(f.ID, RefusedCode, "vetted proxy refused the call: "+err.Error()))
			return nil, false
		}
		if ok, reason := p.callable(ctx, name); !ok {
			p.log.Warn("refused tool call", keyTool, name, keyReason, reason)
			p.toHost(errorFrame(f.ID, RefusedCode, fmt.Sprintf("vetted proxy refused tool %q: %s", name, reason)))
			return nil, false
		}
	}
	return f.Raw, false
}

// callable waits for a pending re-check, then says whether name may be called.
func (p *Proxy) callable(ctx context.Context, name string) (bool, string) {
	p.mu.Lock()
	idle, started, stateless := p.idle, p.started, p.stateless
	p.mu.Unlock()
	if !started {
		return false, "the session is not initialized, so the tools have not been checked yet"
	}
	if stateless {
		p.checkMu.Lock()
		err := p.refresh()
		p.checkMu.Unlock()
		if err != nil {
			return false, "the server's tools could not be listed: " + err.Error()
		}
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
		return false, "the tools are still being checked against the pin"
	case <-ctx.Done():
		return false, ctx.Err().Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.served[name] {
		return true, ""
	}
	if reason, ok := p.refused[name]; ok {
		return false, reason
	}
	return false, "unknown tool: not in the pinned manifest"
}

func (p *Proxy) fromServer(ctx context.Context) error {
	for {
		raw, err := p.up.Recv()
		if err != nil {
			return err
		}
		f, err := ParseFrame(raw)
		if err != nil {
			p.log.Warn("dropped a malformed frame from the server", keyError, err.Error())
			continue
		}
		if out := p.serverFrame(f); out != nil {
			p.toHost(out)
		}
	}
}

// serverFrame returns what to pass to the host for a frame from the server (nil: nothing).
func (p *Proxy) serverFrame(f *Frame) []byte {
	if f.Kind == KindBatch {
		var keep [][]byte
		changed := false
		for _, e := range f.Elems {
			o := p.serverFrame(e)
			if o == nil || !bytes.Equal(o, e.Raw) {
				changed = true
			}
			if o != nil {
				keep = append(keep, o)
			}
		}
		if !changed {
			return f.Raw
		}
		if len(keep) == 0 {
			return nil
		}
		return append(append([]byte{'['}, bytes.Join(keep, []byte{','})...), ']')
	}
	switch f.Kind {
	case KindResponse:
		k, _ := idKey(f.ID)
		p.mu.Lock()
		ch, mine := p.own[k]
		delete(p.own, k)
		isInit, handshake := p.initIDs[k]
		delete(p.initIDs, k)
		p.mu.Unlock()
		if mine {
			ch <- f
			return nil
		}
		if isInit {
			p.noteProtocol(f.Result)
		}
		if handshake && !isInit && f.Result != nil {
			// server/discover (stateless protocol versions): there is no initialized
			// notification, so the check starts once the host has the server's answer.
			p.mu.Lock()
			p.stateless = true
			p.mu.Unlock()
			defer func() { go p.markStarted() }()
		}
		return p.filterTools(f)
	case KindNotification:
		if f.Method == "notifications/tools/list_changed" {
			p.listChanged()
		}
	}
	return f.Raw
}

func (p *Proxy) noteProtocol(result json.RawMessage) {
	ps, ok := p.up.(protocolSetter)
	if !ok || result == nil {
		return
	}
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if json.Unmarshal(result, &r) == nil && r.ProtocolVersion != "" {
		ps.setProtocolVersion(r.ProtocolVersion)
	}
}

// filterTools passes a response unchanged unless its result carries tools: then only the
// tools whose definition hashes to the pinned digest remain, each byte for byte.
func (p *Proxy) filterTools(f *Frame) []byte {
	tools, at, ok, err := toolsOf(f)
	if err != nil {
		p.log.Warn("withheld a malformed tools result", keyError, err.Error())
		return errorFrame(f.ID, -32603, "vetted proxy withheld a malformed tools result: "+err.Error())
	}
	if !ok {
		return f.Raw
	}
	keep, withheld := p.judge(tools)
	p.mu.Lock()
	for name, why := range withheld {
		if p.served[name] {
			delete(p.served, name) // withdrawn at once; the next full check confirms
			p.refused[name] = why
		}
	}
	p.mu.Unlock()
	for name, why := range withheld {
		p.log.Warn("tool withheld", keyTool, name, keyReason, why)
	}
	if len(keep) == len(tools) {
		return f.Raw
	}
	return withTools(f.Raw, at, keep)
}

// judge returns the tools that match the pin and why the others are withheld (by name). A
// name listed more than once is withheld unless every copy matches.
func (p *Proxy) judge(tools []json.RawMessage) ([]json.RawMessage, map[string]string) {
	withheld := map[string]string{}
	type parsed struct {
		raw  json.RawMessage
		name string
		ok   bool
	}
	var all []parsed
	for i, raw := range tools {
		t, err := toolmanifest.ParseTool(raw)
		if err != nil {
			withheld[fmt.Sprintf("#%d", i)] = "definition is not a valid tool: " + err.Error()
			continue
		}
		pt := p.pin.Tool(t.Name)
		switch {
		case pt == nil:
			withheld[t.Name] = "not in the pinned manifest"
		case pt.Digest != t.Digest:
			withheld[t.Name] = fmt.Sprintf("definition changed since it was pinned (live %s, pinned %s)", t.Digest, pt.Digest)
		}
		all = append(all, parsed{raw: raw, name: t.Name, ok: pt != nil && pt.Digest == t.Digest})
	}
	var keep []json.RawMessage
	for _, t := range all {
		if _, bad := withheld[t.name]; t.ok && !bad {
			keep = append(keep, t.raw)
		}
	}
	return keep, withheld
}

func (p *Proxy) markStarted() {
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	p.listChanged()
}

// listChanged schedules a re-check; calls wait for it.
func (p *Proxy) listChanged() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		return
	}
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
		if err := p.refresh(); err != nil {
			p.log.Error("checking the server's tools failed; no tool is callable", keyError, err.Error())
		}
	}
}

// refresh lists every tool through the proxy's own requests and updates what is callable.
// It fails closed.
func (p *Proxy) refresh() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	var all []json.RawMessage
	cursor := json.RawMessage(nil)
	for page := 0; ; page++ {
		if page == maxPages {
			return p.failClosed(fmt.Errorf("more than %d pages of tools", maxPages))
		}
		resp, err := p.request(ctx, "tools/list", cursor)
		if err != nil {
			return p.failClosed(err)
		}
		if resp.Error != nil {
			return p.failClosed(fmt.Errorf("tools/list failed: %s", resp.Error))
		}
		tools, _, ok, err := toolsOf(resp)
		if err != nil || !ok {
			return p.failClosed(fmt.Errorf("tools/list result without a tools array (%v)", err))
		}
		all = append(all, tools...)
		ms, err := members(resp.Result, "nextCursor")
		if err != nil {
			return p.failClosed(err)
		}
		var next string
		if c := ms["nextCursor"]; c != nil && string(c) != "null" {
			if err := json.Unmarshal(c, &next); err != nil {
				return p.failClosed(fmt.Errorf("tools/list: nextCursor: %w", err))
			}
		}
		if next == "" {
			break
		}
		cursor, _ = json.Marshal(map[string]string{"cursor": next})
	}
	keep, withheld := p.judge(all)
	served := map[string]bool{}
	for _, raw := range keep {
		t, _ := toolmanifest.ParseTool(raw)
		served[t.Name] = true
	}
	for _, pt := range p.pin.Tools {
		if _, bad := withheld[pt.Name]; !served[pt.Name] && !bad {
			withheld[pt.Name] = "pinned, but the server no longer offers it"
		}
	}
	for name, why := range withheld {
		p.log.Warn("tool withheld", keyTool, name, keyReason, why)
	}
	p.mu.Lock()
	p.served, p.refused, p.checked = served, withheld, true
	now := p.servedLocked()
	p.mu.Unlock()
	if p.onResult != nil {
		p.onResult(now)
	}
	return nil
}

func (p *Proxy) failClosed(err error) error {
	p.mu.Lock()
	p.served = map[string]bool{}
	p.refused = map[string]string{}
	for _, pt := range p.pin.Tools {
		p.refused[pt.Name] = "the server's tools could not be listed: " + err.Error()
	}
	p.checked = true
	p.mu.Unlock()
	if p.onResult != nil {
		p.onResult(nil)
	}
	return err
}

// request sends a request of the proxy's own (its id cannot collide with the host's) and
// waits for the answer.
func (p *Proxy) request(ctx context.Context, method string, params json.RawMessage) (*Frame, error) {
	p.mu.Lock()
	p.seq++
	id, _ := json.Marshal(fmt.Sprintf("%s%d", p.prefix, p.seq))
	k, _ := idKey(id)
	ch := make(chan *Frame, 1)
	p.own[k] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.own, k)
		p.mu.Unlock()
	}()
	p.mu.Lock()
	meta := p.hostMeta
	p.mu.Unlock()
	if meta != nil {
		var ps map[string]json.RawMessage
		if params == nil || json.Unmarshal(params, &ps) != nil || ps == nil {
			ps = map[string]json.RawMessage{}
		}
		ps["_meta"] = meta
		params, _ = json.Marshal(ps)
	}
	msg := map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method}
	if params != nil {
		msg["params"] = params
	}
	frame, _ := json.Marshal(msg)
	if err := p.up.Send(ctx, frame); err != nil {
		return nil, err
	}
	select {
	case f := <-ch:
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer from the server: %w", method, ctx.Err())
	case <-p.closedCh:
		return nil, errors.New("proxy closed")
	}
}

func requestIDs(f *Frame) []json.RawMessage {
	if f.Kind == KindBatch {
		var ids []json.RawMessage
		for _, e := range f.Elems {
			ids = append(ids, requestIDs(e)...)
		}
		return ids
	}
	if f.Kind == KindRequest {
		return []json.RawMessage{f.ID}
	}
	return nil
}

func errorFrame(id json.RawMessage, code int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": id,
		"error": map[string]any{"code": code, "message": msg},
	})
	return b
}
