package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// httpUpstream is a streamable HTTP client (MCP 2025-03-26 and later) that moves frames as
// they are: every frame from the host is POSTed as the body; JSON and server-sent-event
// responses, and the standalone GET event stream, are handed back frame by frame.
type httpUpstream struct {
	url    string
	client *http.Client
	max    int64
	in     chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	session  string
	protocol string
	getOnce  sync.Once
	err      error
}

// HTTP is an upstream over streamable HTTP at url. client may be nil.
func HTTP(url string, client *http.Client, maxMessage int64) Upstream {
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &httpUpstream{url: url, client: client, max: maxMessage, in: make(chan []byte, 64), ctx: ctx, cancel: cancel}
}

func (h *httpUpstream) setProtocolVersion(v string) {
	h.mu.Lock()
	h.protocol = v
	h.mu.Unlock()
}

func (h *httpUpstream) headers(req *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.session != "" {
		req.Header.Set("Mcp-Session-Id", h.session)
	}
	if h.protocol != "" {
		req.Header.Set("Mcp-Protocol-Version", h.protocol)
	}
}

// frameHeaders sets the headers that describe a request frame: the protocol version its
// _meta names, and from 2026-07-28 on the method and the tool, prompt or resource name.
func frameHeaders(req *http.Request, frame []byte) {
	f, err := ParseFrame(frame)
	if err != nil || f.Kind != KindRequest && f.Kind != KindNotification || f.Params == nil {
		return
	}
	var ps struct {
		Meta map[string]any `json:"_meta"`
		Name string         `json:"name"`
		URI  string         `json:"uri"`
	}
	if json.Unmarshal(f.Params, &ps) != nil {
		return
	}
	pv, _ := ps.Meta["io.modelcontextprotocol/protocolVersion"].(string)
	if pv == "" {
		return
	}
	req.Header.Set("Mcp-Protocol-Version", pv)
	if pv < "2026-07-28" {
		return
	}
	req.Header.Set("Mcp-Method", f.Method)
	switch f.Method {
	case "tools/call", "prompts/get":
		req.Header.Set("Mcp-Name", ps.Name)
	case "resources/read":
		req.Header.Set("Mcp-Name", ps.URI)
	}
}

// Send POSTs the frame and waits for the response headers (so that frames reach the server
// in order); the response body is read in the background.
func (h *httpUpstream) Send(_ context.Context, frame []byte) error {
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.url, bytes.NewReader(frame))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	h.headers(req)
	frameHeaders(req, frame)
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", h.url, err)
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		h.mu.Lock()
		first := h.session == ""
		h.session = sid
		h.mu.Unlock()
		if first {
			h.getOnce.Do(func() { h.wg.Add(1); go h.standalone() })
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return fmt.Errorf("POST %s: HTTP %d: %s", h.url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer resp.Body.Close()
		if err := h.readBody(resp); err != nil {
			h.fail(err)
		}
	}()
	return nil
}

func (h *httpUpstream) readBody(resp *http.Response) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "text/event-stream":
		return readSSE(resp.Body, h.max, h.deliver)
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(resp.Body, h.max+1))
		if err != nil {
			return err
		}
		if int64(len(body)) > h.max {
			return fmt.Errorf("%w: a response of more than %d bytes", ErrMessageTooLarge, h.max)
		}
		if len(bytes.TrimSpace(body)) > 0 {
			h.deliver(body)
		}
		return nil
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, h.max))
		return nil
	}
}

// standalone keeps the GET event stream open for messages the server sends on its own
// (notifications such as tools/list_changed, and requests such as sampling).
func (h *httpUpstream) standalone() {
	defer h.wg.Done()
	for attempt := 0; attempt < 5 && h.ctx.Err() == nil; attempt++ {
		req, err := http.NewRequestWithContext(h.ctx, http.MethodGet, h.url, nil)
		if err != nil {
			return
		}
		req.Header.Set("Accept", "text/event-stream")
		h.headers(req)
		resp, err := h.client.Do(req)
		if err != nil {
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close()
			return // 405: the server offers no standalone stream
		}
		err = readSSE(resp.Body, h.max, h.deliver)
		_ = resp.Body.Close()
		if err != nil && h.ctx.Err() == nil {
			h.fail(err)
			return
		}
	}
}

func (h *httpUpstream) deliver(frame []byte) {
	if bytes.ContainsAny(frame, "\r\n") {
		// Stdio frames are single lines; only insignificant whitespace is removed.
		var b bytes.Buffer
		if json.Compact(&b, frame) == nil {
			frame = b.Bytes()
		}
	}
	select {
	case h.in <- frame:
	case <-h.ctx.Done():
	}
}

func (h *httpUpstream) fail(err error) {
	h.mu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.mu.Unlock()
	h.cancel()
}

func (h *httpUpstream) Recv() ([]byte, error) {
	select {
	case f := <-h.in:
		return f, nil
	case <-h.ctx.Done():
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.err != nil {
			return nil, h.err
		}
		return nil, io.EOF
	}
}

// Close ends the session (DELETE) and stops every stream.
func (h *httpUpstream) Close() error {
	h.mu.Lock()
	sid := h.session
	h.mu.Unlock()
	if sid != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, h.url, nil)
		if err == nil {
			h.headers(req)
			if resp, err := h.client.Do(req); err == nil {
				_ = resp.Body.Close()
			}
		}
		cancel()
	}
	h.cancel()
	h.wg.Wait()
	return nil
}

// readSSE parses a server-sent event stream and calls f with the data of each event of type
// "message" (the default). An event larger than max fails the stream.
func readSSE(r io.Reader, max int64, f func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data bytes.Buffer
	event := ""
	hasData := false
	for {
		line, err := readLine(br, max)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch {
		case len(line) == 0:
			if hasData && (event == "" || event == "message") {
				f(bytes.Clone(data.Bytes()))
			}
			data.Reset()
			event, hasData = "", false
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "data":
				if hasData {
					data.WriteByte('\n')
				}
				data.Write(value)
				hasData = true
				if int64(data.Len()) > max {
					return fmt.Errorf("%w: an event of more than %d bytes", ErrMessageTooLarge, max)
				}
			case "event":
				event = string(value)
			}
		}
	}
}

func readLine(br *bufio.Reader, max int64) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if int64(len(line)) > max+2 {
			return nil, fmt.Errorf("%w: a line of more than %d bytes", ErrMessageTooLarge, max)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return bytes.TrimRight(line, "\r\n"), nil
			}
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}
