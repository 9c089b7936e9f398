package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ErrMessageTooLarge is reported when the server sends a message above the size limit.
var ErrMessageTooLarge = errors.New("MCP message larger than the limit")

// commandTransport runs a command and speaks newline-delimited JSON-RPC over its stdin and
// stdout, refusing any line longer than maxLine bytes.
type commandTransport struct {
	cmd     *exec.Cmd
	maxLine int64
	tap     *tap
}

func (t *commandTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	stdout, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server stdout: %w", err)
	}
	stdin, err := t.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server stdin: %w", err)
	}
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting server %s: %w", t.cmd.Path, err)
	}
	r := &lineLimitReader{r: stdout, max: t.maxLine, tap: t.tap}
	w := &procCloser{WriteCloser: stdin, cmd: t.cmd}
	return (&mcp.IOTransport{Reader: io.NopCloser(r), Writer: w}).Connect(ctx)
}

// lineLimitReader fails once a line (one JSON-RPC message) exceeds max bytes.
type lineLimitReader struct {
	r    io.Reader
	max  int64
	cur  int64
	tap  *tap
	fail error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.fail != nil {
		return 0, l.fail
	}
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > l.max {
			l.fail = fmt.Errorf("%w: the server sent a message of more than %d bytes", ErrMessageTooLarge, l.max)
			if l.tap != nil {
				l.tap.fail(l.fail)
			}
			return 0, l.fail
		}
	}
	return n, err
}

// procCloser closes the server's stdin, then waits for it to exit, then terminates it.
type procCloser struct {
	io.WriteCloser
	cmd  *exec.Cmd
	once sync.Once
}

func (p *procCloser) Close() error {
	p.once.Do(func() {
		_ = p.WriteCloser.Close()
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
			return
		case <-time.After(2 * time.Second):
		}
		if p.cmd.Process != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			if p.cmd.Process != nil {
				_ = p.cmd.Process.Kill()
			}
			<-done
		}
	})
	return nil
}
