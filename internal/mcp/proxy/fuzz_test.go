package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

// FuzzFrame feeds arbitrary frames to the parser and to both directions of the proxy's
// handling: nothing may panic, a parsed frame's Raw is the input, and a filtered tools
// result still parses with the same id.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"x","result":{"tools":[{"name":"add","inputSchema":{"type":"object"}},{"name":"evil"}],"nextCursor":"c"}}`,
		`[{"jsonrpc":"2.0","method":"notifications/tools/list_changed"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`,
		`{"jsonrpc":"2.0","id":1.0,"error":{"code":1,"message":"m"}}`,
		`{"jsonrpc":"2.0","id":null,"result":{"tools":{}}}`,
		`  {"jsonrpc":"2.0","id":3,"result":{"tools":[]}}  `,
	} {
		f.Add([]byte(s))
	}
	pin, err := toolmanifest.FromTools([]json.RawMessage{json.RawMessage(`{"name":"add","inputSchema":{"type":"object"}}`)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := ParseFrame(data)
		if err != nil {
			return
		}
		if !bytes.Equal(fr.Raw, data) {
			t.Fatal("Raw differs from the input")
		}
		p := New(pin, nopUpstream{}, Options{})
		p.out = io.Discard
		out := p.serverFrame(fr)
		if out != nil && fr.Kind == KindResponse {
			g, err := ParseFrame(out)
			if err != nil {
				t.Fatalf("filtered frame does not parse: %v\n%s", err, out)
			}
			a, _ := idKey(fr.ID)
			b, _ := idKey(g.ID)
			if a != b {
				t.Fatalf("id changed: %s -> %s", fr.ID, g.ID)
			}
		}
		_, _ = p.hostFrame(t.Context(), fr)
	})
}

// FuzzSSE: the event-stream parser never panics and never hands over more than max bytes.
func FuzzSSE(f *testing.F) {
	f.Add("data: {\"a\":1}\n\n: comment\nevent: message\ndata: x\ndata: y\n\n")
	f.Add("event: ping\ndata: z\n\ndata:")
	f.Fuzz(func(t *testing.T, s string) {
		_ = readSSE(strings.NewReader(s), 64, func(b []byte) {
			if len(b) > 64 {
				t.Fatalf("event of %d bytes passed a 64-byte limit", len(b))
			}
		})
	})
}

type nopUpstream struct{}

func (nopUpstream) Send(context.Context, []byte) error { return nil }
func (nopUpstream) Recv() ([]byte, error)              { return nil, io.EOF }
func (nopUpstream) Close() error                       { return nil }
