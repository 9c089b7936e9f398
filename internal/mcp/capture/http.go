package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// tapRoundTripper shows the tap every JSON-RPC message that passes over streamable HTTP,
// as raw bytes, and enforces the message size limit on responses.
type tapRoundTripper struct {
	base http.RoundTripper
	tap  *tap
	max  int64
}

func (t *tapRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		decodeEach(body, t.tap.sent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		resp.Body = &jsonTapBody{rc: resp.Body, t: t}
	case "text/event-stream":
		resp.Body = &sseTapBody{rc: resp.Body, t: t}
	}
	return resp, nil
}

// decodeEach decodes a JSON-RPC message or batch and calls f for each message.
func decodeEach(data []byte, f func(jsonrpc.Message)) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(data, &batch); err != nil {
			return
		}
		for _, m := range batch {
			decodeEach(m, f)
		}
		return
	}
	if msg, err := jsonrpc.DecodeMessage(data); err == nil {
		f(msg)
	}
}

type jsonTapBody struct {
	rc  io.ReadCloser
	t   *tapRoundTripper
	buf bytes.Buffer
}

func (b *jsonTapBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.buf.Write(p[:n])
	if int64(b.buf.Len()) > b.t.max {
		e := fmt.Errorf("%w: the server sent a response of more than %d bytes", ErrMessageTooLarge, b.t.max)
		b.t.tap.fail(e)
		return 0, e
	}
	if err == io.EOF {
		decodeEach(b.buf.Bytes(), b.t.tap.received)
		b.buf.Reset()
	}
	return n, err
}

func (b *jsonTapBody) Close() error { return b.rc.Close() }

// sseTapBody follows a server-sent event stream line by line as the SDK reads it, and hands
// each complete event's data to the tap before the SDK sees the event's terminating line.
type sseTapBody struct {
	rc   io.ReadCloser
	t    *tapRoundTripper
	line bytes.Buffer
	data bytes.Buffer
}

func (b *sseTapBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	for _, c := range p[:n] {
		if c != '\n' {
			b.line.WriteByte(c)
			if int64(b.line.Len()+b.data.Len()) > b.t.max {
				e := fmt.Errorf("%w: the server sent an event of more than %d bytes", ErrMessageTooLarge, b.t.max)
				b.t.tap.fail(e)
				return 0, e
			}
			continue
		}
		line := strings.TrimSuffix(b.line.String(), "\r")
		b.line.Reset()
		switch {
		case line == "":
			if b.data.Len() > 0 {
				decodeEach(b.data.Bytes(), b.t.tap.received)
				b.data.Reset()
			}
		case strings.HasPrefix(line, "data:"):
			if b.data.Len() > 0 {
				b.data.WriteByte('\n')
			}
			b.data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	return n, err
}

func (b *sseTapBody) Close() error { return b.rc.Close() }
