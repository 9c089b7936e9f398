package capture

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// tap records the raw result of every tools/list response.
type tap struct {
	mu      sync.Mutex
	pending map[any]bool // ids of tools/list requests in flight
	seq     int          // number of tools/list responses seen
	last    json.RawMessage
	lastErr error
	failure error // a limit the transport hit; reported instead of the SDK's generic error
}

func newTap() *tap { return &tap{pending: map[any]bool{}} }

func (t *tap) sent(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/list" || !req.ID.IsValid() {
		return
	}
	t.mu.Lock()
	t.pending[req.ID.Raw()] = true
	t.mu.Unlock()
}

func (t *tap) received(msg jsonrpc.Message) {
	resp, ok := msg.(*jsonrpc.Response)
	if !ok || !resp.ID.IsValid() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.pending[resp.ID.Raw()] {
		return
	}
	delete(t.pending, resp.ID.Raw())
	t.seq++
	t.last = append(json.RawMessage(nil), resp.Result...)
	t.lastErr = resp.Error
}

func (t *tap) state() (int, json.RawMessage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq, t.last, t.lastErr
}

func (t *tap) fail(err error) {
	t.mu.Lock()
	if t.failure == nil {
		t.failure = err
	}
	t.mu.Unlock()
}

func (t *tap) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failure
}

// tapTransport wraps a transport whose connection hands out decoded messages with raw
// results (stdio, in-memory, command).
type tapTransport struct {
	inner mcp.Transport
	tap   *tap
}

func (t *tapTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &tapConn{Connection: c, tap: t.tap}, nil
}

type tapConn struct {
	mcp.Connection
	tap *tap
}

func (c *tapConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if err == nil {
		c.tap.received(msg)
	}
	return msg, err
}

func (c *tapConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	c.tap.sent(msg)
	return c.Connection.Write(ctx, msg)
}
