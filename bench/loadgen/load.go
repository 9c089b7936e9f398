package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Config is one load run.
type Config struct {
	// Target is the base URL, http://<loopback address>:<port>.
	Target string
	// Connections is the number of keep-alive connections, each one request at a time (1..1024).
	Connections int
	// Duration is how long requests are sent (up to 10 minutes).
	Duration time.Duration
	// Next returns the path and query of the next request of a connection. prev is the body
	// of that connection's previous response (nil at first and after errors).
	Next func(conn int, prev []byte) string
	// KeepBody keeps response bodies for Next (otherwise prev is always nil).
	KeepBody bool
}

// Result is what a run measured.
type Result struct {
	Requests int           // answered requests
	Errors   int           // connection errors and non-2xx/304 answers
	Elapsed  time.Duration // wall time of the run
	Bytes    int64         // response body bytes
	P50, P99 time.Duration
	Max      time.Duration
	Status   map[int]int // answers by status code
}

// RPS is answered requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  max %7.2f ms  (%d requests, %d errors, %.1f MB/s)",
		r.RPS(), ms(r.P50), ms(r.P99), ms(r.Max), r.Requests, r.Errors, float64(r.Bytes)/r.Elapsed.Seconds()/1e6)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// maxBody bounds a response body.
const maxBody = 64 << 20

// maxSamples bounds the latencies kept per connection.
const maxSamples = 1 << 21

// Run sends load as cfg says and reports what it measured.
func Run(ctx context.Context, cfg Config) (Result, error) {
	u, err := url.Parse(cfg.Target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return Result{}, fmt.Errorf("loadgen: target %q: want http://host:port", cfg.Target)
	}
	if err := checkLoopback(ctx, u.Hostname()); err != nil {
		return Result{}, err
	}
	switch {
	case cfg.Connections < 1 || cfg.Connections > 1024:
		return Result{}, fmt.Errorf("loadgen: %d connections: want 1..1024", cfg.Connections)
	case cfg.Duration <= 0 || cfg.Duration > 10*time.Minute:
		return Result{}, fmt.Errorf("loadgen: duration %v: want up to 10m", cfg.Duration)
	case cfg.Next == nil:
		return Result{}, errors.New("loadgen: no request generator")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	workers := make([]*worker, cfg.Connections)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{id: i, cfg: &cfg, host: u.Host, status: map[int]int{}}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Status: map[int]int{}}
	var lat []time.Duration
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		res.Bytes += w.bytes
		for k, v := range w.status {
			res.Status[k] += v
		}
		lat = append(lat, w.lat...)
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		res.P50 = lat[len(lat)*50/100]
		res.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.Max = lat[len(lat)-1]
	}
	return res, nil
}

func checkLoopback(ctx context.Context, host string) error {
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("loadgen: resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("loadgen: %s is not a loopback address: load is only sent to this machine", host)
		}
	}
	return nil
}

type worker struct {
	id       int
	cfg      *Config
	host     string
	requests int
	errors   int
	bytes    int64
	lat      []time.Duration
	status   map[int]int
	body     []byte
}

func (w *worker) run(ctx context.Context) {
	var (
		conn net.Conn
		br   *bufio.Reader
		req  []byte
		prev []byte
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var d net.Dialer
	for ctx.Err() == nil {
		if conn == nil {
			c, err := d.DialContext(ctx, "tcp", w.host)
			if err != nil {
				if ctx.Err() == nil {
					w.errors++
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			conn, br = c, bufio.NewReaderSize(c, 64<<10)
			if dl, ok := ctx.Deadline(); ok {
				_ = conn.SetDeadline(dl.Add(5 * time.Second))
			}
		}
		path := w.cfg.Next(w.id, prev)
		req = append(req[:0], "GET "...)
		req = append(req, path...)
		req = append(req, " HTTP/1.1\r\nHost: "...)
		req = append(req, w.host...)
		req = append(req, "\r\nUser-Agent: vetted-loadgen\r\nAccept: application/json\r\n\r\n"...)
		t0 := time.Now()
		if _, err := conn.Write(req); err != nil {
			w.fail(ctx, &conn, &prev)
			continue
		}
		status, body, closeConn, err := readResponse(br, w.body[:0])
		if err != nil {
			w.fail(ctx, &conn, &prev)
			continue
		}
		lat := time.Since(t0)
		w.body = body
		w.requests++
		w.bytes += int64(len(body))
		w.status[status]++
		if len(w.lat) < maxSamples {
			w.lat = append(w.lat, lat)
		}
		if status >= 300 && status != 304 {
			w.errors++
		}
		prev = nil
		if w.cfg.KeepBody {
			prev = body
		}
		if closeConn {
			conn.Close()
			conn = nil
		}
	}
}

func (w *worker) fail(ctx context.Context, conn *net.Conn, prev *[]byte) {
	if ctx.Err() == nil {
		w.errors++
	}
	(*conn).Close()
	*conn = nil
	*prev = nil
}

// readResponse reads one HTTP/1.1 response (Content-Length or chunked body) into buf.
func readResponse(br *bufio.Reader, buf []byte) (status int, body []byte, closeConn bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			length, err = strconv.Atoi(string(v))
			if err != nil || length < 0 || length > maxBody {
				return 0, nil, false, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closeConn = bytes.EqualFold(v, []byte("close"))
		}
	}
	switch {
	case status == 304 || status == 204 || status/100 == 1:
		return status, buf, closeConn, nil
	case chunked:
		body, err = readChunked(br, buf)
		return status, body, closeConn, err
	case length >= 0:
		if cap(buf) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		_, err = io.ReadFull(br, buf)
		return status, buf, closeConn, err
	}
	return 0, nil, false, errors.New("response without length")
}

func readChunked(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		sz := bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(sz, ';'); i >= 0 {
			sz = sz[:i]
		}
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil || n < 0 || int64(len(buf))+n > maxBody {
			return nil, fmt.Errorf("bad chunk size %q", sz)
		}
		if n == 0 {
			for { // trailers
				line, err := br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return buf, nil
				}
			}
		}
		off := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(br, buf[off:]); err != nil {
			return nil, err
		}
		if _, err := br.Discard(2); err != nil {
			return nil, err
		}
	}
}

// NextCursor extracts metadata.nextCursor from a list response body ("" when absent).
func NextCursor(body []byte) string {
	i := bytes.LastIndex(body, []byte(`"nextCursor":"`))
	if i < 0 {
		return ""
	}
	rest := body[i+len(`"nextCursor":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
