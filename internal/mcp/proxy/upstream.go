package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ErrMessageTooLarge is returned when a peer sends a frame above the size limit.
var ErrMessageTooLarge = errors.New("MCP message larger than the limit")

// Upstream is the connection to the real server: frames go out with Send and come back from
// Recv, unchanged.
type Upstream interface {
	// Send delivers one frame to the server.
	Send(ctx context.Context, frame []byte) error
	// Recv returns the next frame from the server; io.EOF when the server has gone.
	Recv() ([]byte, error)
	// Close disconnects (and stops a server process).
	Close() error
}

// protocolSetter is implemented by upstreams that must know the negotiated protocol version
// (streamable HTTP sends it as a header).
type protocolSetter interface{ setProtocolVersion(v string) }

// frameReader reads newline-delimited frames of at most max bytes.
type frameReader struct {
	r   *bufio.Reader
	max int
}

func newFrameReader(r io.Reader, max int64) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), max: int(max)}
}

// next returns the next non-empty line without its line ending.
func (fr *frameReader) next() ([]byte, error) {
	for {
		var line []byte
		for {
			chunk, err := fr.r.ReadSlice('\n')
			if len(line)+len(chunk) > fr.max+2 {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrMessageTooLarge, fr.max)
			}
			line = append(line, chunk...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				if err == io.EOF && len(bytes.TrimSpace(line)) > 0 {
					return bytes.TrimRight(line, "\r\n"), nil
				}
				return nil, err
			}
			break
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

// streamUpstream speaks newline-delimited JSON-RPC over a reader and a writer.
type streamUpstream struct {
	fr  *frameReader
	mu  sync.Mutex
	w   io.WriteCloser
	end func() error
}

// Stream is an upstream over r (frames from the server) and w (frames to it), newline
// delimited as in the stdio transport. Close closes w.
func Stream(r io.Reader, w io.WriteCloser, maxMessage int64) Upstream {
	return &streamUpstream{fr: newFrameReader(r, maxMessage), w: w, end: w.Close}
}

func (s *streamUpstream) Send(_ context.Context, frame []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(append(bytes.TrimRight(frame, "\r\n"), '\n')); err != nil {
		return fmt.Errorf("writing to the server: %w", err)
	}
	return nil
}

func (s *streamUpstream) Recv() ([]byte, error) { return s.fr.next() }

func (s *streamUpstream) Close() error { return s.end() }

// Command starts cmd (whose Stdin and Stdout must be unset) and speaks newline-delimited
// JSON-RPC over its stdin and stdout. Close closes its stdin, waits for it to exit, then
// terminates it.
func Command(cmd *exec.Cmd, maxMessage int64) (Upstream, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server stdout: %w", err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server stdin: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting server %s: %w", cmd.Path, err)
	}
	s := &streamUpstream{fr: newFrameReader(stdout, maxMessage), w: stdin}
	var once sync.Once
	s.end = func() error {
		once.Do(func() { stop(stdin, cmd) })
		return nil
	}
	return s, nil
}

func stop(stdin io.Closer, cmd *exec.Cmd) {
	_ = stdin.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(2 * time.Second):
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
