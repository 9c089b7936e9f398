package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

// Defaults of Options.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxMessageBytes = toolmanifest.MaxManifestBytes
	DefaultMaxPages        = 100
	DefaultMaxTools        = 5000
)

// ErrTimeout is returned when the server does not answer within the time limit.
var ErrTimeout = errors.New("MCP server did not answer in time")

// Options bound a capture. Zero values take the defaults.
type Options struct {
	// Timeout bounds connecting, initializing and listing all tools.
	Timeout time.Duration
	// MaxMessageBytes bounds every JSON-RPC message the server sends.
	MaxMessageBytes int64
	// MaxPages bounds the number of tools/list pages.
	MaxPages int
	// MaxTools bounds the number of tools.
	MaxTools int
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// ClientOptions are passed to the SDK client (handlers for notifications, …).
	ClientOptions *mcp.ClientOptions
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.MaxTools <= 0 {
		o.MaxTools = DefaultMaxTools
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Target says how to reach a server. Build it with Command, HTTP or Transport.
type Target struct {
	connect func(t *tap, maxMessage int64) mcp.Transport
	desc    string
}

func (t Target) String() string { return t.desc }

// Command reaches a server by running cmd and speaking JSON-RPC over its stdin/stdout. The
// caller may set cmd.Stderr (and Env, Dir); stdin and stdout must be left unset.
func Command(cmd *exec.Cmd) Target {
	return Target{desc: cmd.String(), connect: func(t *tap, max int64) mcp.Transport {
		return &tapTransport{inner: &commandTransport{cmd: cmd, maxLine: max, tap: t}, tap: t}
	}}
}

// HTTP reaches a server over streamable HTTP at url. client may be nil.
func HTTP(url string, client *http.Client) Target {
	return Target{desc: url, connect: func(t *tap, max int64) mcp.Transport {
		base := http.DefaultTransport
		c := &http.Client{}
		if client != nil {
			*c = *client
			if client.Transport != nil {
				base = client.Transport
			}
		}
		c.Transport = &tapRoundTripper{base: base, tap: t, max: max}
		return &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: c, MaxRetries: 1, DisableStandaloneSSE: false}
	}}
}

// Transport reaches a server through any SDK transport whose connection returns results as
// raw JSON (stdio, in-memory, IOTransport). For tests and embedding.
func Transport(tr mcp.Transport, desc string) Target {
	return Target{desc: desc, connect: func(t *tap, _ int64) mcp.Transport {
		return &tapTransport{inner: tr, tap: t}
	}}
}

// Session is an initialized client session whose tools/list results are captured raw.
type Session struct {
	cs     *mcp.ClientSession
	tap    *tap
	opts   Options
	target Target
	cached map[string]json.RawMessage // raw page by cursor, for results the SDK served from its cache
}

// Connect starts the server (or opens the connection) and initializes an MCP session,
// within opts.Timeout.
func Connect(ctx context.Context, target Target, opts Options) (*Session, error) {
	opts = opts.withDefaults()
	t := newTap()
	client := mcp.NewClient(&mcp.Implementation{Name: "vetted", Version: "v0"}, opts.ClientOptions)
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	type result struct {
		cs  *mcp.ClientSession
		err error
	}
	done := make(chan result, 1)
	go func() {
		cs, err := client.Connect(cctx, target.connect(t, opts.MaxMessageBytes), nil)
		done <- result{cs, err}
	}()
	var (
		cs  *mcp.ClientSession
		err error
	)
	select {
	case r := <-done:
		cs, err = r.cs, r.err
	case <-afterDeadline(cctx):
		// The SDK may spend seconds more notifying a dead server of the cancellation;
		// the time limit is ours to keep. Clean up whenever it returns.
		go func() {
			if r := <-done; r.cs != nil {
				_ = r.cs.Close()
			}
		}()
		err = cctx.Err()
	}
	if err != nil {
		return nil, explain(cctx, t, fmt.Errorf("initializing MCP session with %s: %w", target, err), opts.Timeout)
	}
	return &Session{cs: cs, tap: t, opts: opts, target: target, cached: map[string]json.RawMessage{}}, nil
}

// graceAfterDeadline is how long a call may take to return after its deadline before it is
// abandoned.
const graceAfterDeadline = 250 * time.Millisecond

// afterDeadline fires graceAfterDeadline after ctx is done.
func afterDeadline(ctx context.Context) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		<-ctx.Done()
		time.Sleep(graceAfterDeadline)
		ch <- time.Now()
	}()
	return ch
}

func explain(ctx context.Context, t *tap, err error, timeout time.Duration) error {
	if f := t.failed(); f != nil {
		return fmt.Errorf("%w (%v)", f, err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %s: %v", ErrTimeout, timeout, err)
	}
	return err
}

// Client returns the SDK session, for calls other than tools/list.
func (s *Session) Client() *mcp.ClientSession { return s.cs }

// Close ends the session and stops the server; it gives up waiting after 5 s (a dead server
// may never acknowledge).
func (s *Session) Close() error {
	done := make(chan error, 1)
	go func() { done <- s.cs.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("closing the MCP session: the server did not finish within 5s")
	}
}

// ListTools pages through tools/list and returns the tools exactly as served, within
// opts.Timeout.
func (s *Session) ListTools(ctx context.Context) (*toolmanifest.Manifest, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	var raws []json.RawMessage
	cursor := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page >= s.opts.MaxPages {
			return nil, fmt.Errorf("tools/list: more than %d pages", s.opts.MaxPages)
		}
		before, _, _ := s.tap.state()
		res, err := s.listPage(ctx, cursor)
		if err != nil {
			return nil, explain(ctx, s.tap, fmt.Errorf("tools/list from %s: %w", s.target, err), s.opts.Timeout)
		}
		after, raw, _ := s.tap.state()
		if after == before {
			// The SDK answered from its list cache: reuse the page we captured for it.
			c, ok := s.cached[cursor]
			if !ok {
				return nil, fmt.Errorf("tools/list from %s: no raw response was captured", s.target)
			}
			raw = c
		}
		s.cached[cursor] = raw
		pageM, err := toolmanifest.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("tools/list page %d from %s: %w", page+1, s.target, err)
		}
		for _, t := range pageM.Tools {
			raws = append(raws, json.RawMessage(t.Raw))
		}
		if len(raws) > s.opts.MaxTools {
			return nil, fmt.Errorf("tools/list from %s: more than %d tools", s.target, s.opts.MaxTools)
		}
		if res.NextCursor == "" {
			break
		}
		if seen[res.NextCursor] {
			return nil, fmt.Errorf("tools/list from %s: cursor %q repeats", s.target, res.NextCursor)
		}
		seen[res.NextCursor] = true
		cursor = res.NextCursor
	}
	m, err := toolmanifest.FromTools(raws)
	if err != nil {
		return nil, fmt.Errorf("tools/list from %s: %w", s.target, err)
	}
	return m, nil
}

// listPage is one tools/list call, abandoned shortly after ctx's deadline even if the SDK
// has not returned yet.
func (s *Session) listPage(ctx context.Context, cursor string) (*mcp.ListToolsResult, error) {
	type result struct {
		res *mcp.ListToolsResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-afterDeadline(ctx):
		return nil, ctx.Err()
	}
}

// Capture connects, lists every tool and disconnects.
func Capture(ctx context.Context, target Target, opts Options) (*toolmanifest.Manifest, error) {
	s, err := Connect(ctx, target, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.ListTools(ctx)
}
