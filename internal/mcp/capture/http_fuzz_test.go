package capture

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// FuzzSSETap feeds arbitrary server-sent event streams through the tap: it must never panic,
// must pass every byte through unchanged, and must capture a tools/list result sent as one
// event.
func FuzzSSETap(f *testing.F) {
	f.Add([]byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n"))
	f.Add([]byte("data: {\"jsonrpc\":\"2.0\",\r\ndata: \"id\":1,\"result\":{}}\r\n\r\n: comment\n\n"))
	f.Add([]byte("data:[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"a\"}]}}]\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		tp := newTap()
		tp.pending[float64(1)] = true
		tp.pending[int64(1)] = true
		rt := &tapRoundTripper{tap: tp, max: 1 << 16}
		body := &sseTapBody{rc: io.NopCloser(bytes.NewReader(stream)), t: rt}
		got, err := io.ReadAll(body)
		if err == nil && !bytes.Equal(got, stream) {
			t.Fatalf("stream altered")
		}
		_, raw, _ := tp.state()
		if raw != nil && !json.Valid(raw) {
			t.Fatalf("captured invalid JSON %q", raw)
		}
	})
}

func TestSSETapCapturesMultiLineData(t *testing.T) {
	tp := newTap()
	tp.pending[int64(7)] = true
	rt := &tapRoundTripper{tap: tp, max: 1 << 16}
	stream := "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\ndata: \"result\":{\"tools\":[{\"name\":\"x\",\"zz\":1}]}}\n\n"
	body := &sseTapBody{rc: io.NopCloser(bytes.NewReader([]byte(stream))), t: rt}
	if _, err := io.ReadAll(body); err != nil {
		t.Fatal(err)
	}
	n, raw, _ := tp.state()
	if n != 1 || string(raw) != `{"tools":[{"name":"x","zz":1}]}` {
		t.Fatalf("captured %d %s", n, raw)
	}
	// A stream above the size limit is cut off with ErrMessageTooLarge.
	rt.max = 10
	body = &sseTapBody{rc: io.NopCloser(bytes.NewReader([]byte(stream))), t: rt}
	if _, err := io.ReadAll(body); err == nil || !bytes.Contains([]byte(err.Error()), []byte("more than 10 bytes")) {
		t.Fatalf("want size error, got %v", err)
	}
}
