package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunAgainstServer(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch {
		case r.URL.Path == "/chunked":
			w.(http.Flusher).Flush() // forces chunked encoding
			fmt.Fprintf(w, `{"metadata":{"nextCursor":"c%d"}}`, i)
		case r.URL.Path == "/missing":
			http.NotFound(w, r)
		default:
			fmt.Fprintf(w, `{"servers":[],"metadata":{"nextCursor":"c%d","count":0}}`, i)
		}
	}))
	defer srv.Close()
	var sawCursor atomic.Bool
	res, err := Run(context.Background(), Config{
		Target: srv.URL, Connections: 4, Duration: 300 * time.Millisecond, KeepBody: true,
		Next: func(conn int, prev []byte) string {
			if NextCursor(prev) != "" {
				sawCursor.Store(true)
			}
			if conn == 0 {
				return "/chunked"
			}
			return "/list"
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 10 || res.Errors != 0 || res.P50 <= 0 || res.P99 < res.P50 || !sawCursor.Load() {
		t.Fatalf("result %+v, cursor seen %v", res, sawCursor.Load())
	}
	res, err = Run(context.Background(), Config{
		Target: srv.URL, Connections: 1, Duration: 100 * time.Millisecond,
		Next: func(int, []byte) string { return "/missing" },
	})
	if err != nil || res.Errors != res.Requests || res.Status[404] != res.Requests {
		t.Fatalf("404s not counted as errors: %+v %v", res, err)
	}
}

func TestRunRefuses(t *testing.T) {
	next := func(int, []byte) string { return "/" }
	cases := []struct {
		cfg Config
		why string
	}{
		{Config{Target: "http://192.0.2.1:80", Connections: 1, Duration: time.Second, Next: next}, "not a loopback address"},
		{Config{Target: "https://127.0.0.1:80", Connections: 1, Duration: time.Second, Next: next}, "want http://host:port"},
		{Config{Target: "http://127.0.0.1:80", Connections: 0, Duration: time.Second, Next: next}, "connections"},
		{Config{Target: "http://127.0.0.1:80", Connections: 1, Duration: time.Hour, Next: next}, "duration"},
		{Config{Target: "http://127.0.0.1:80", Connections: 1, Duration: time.Second}, "no request generator"},
	}
	for _, c := range cases {
		if _, err := Run(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%+v: err %v, want %q", c.cfg.Target, err, c.why)
		}
	}
}

func TestDataset(t *testing.T) {
	vs := Dataset(3, 2)
	if len(vs) != 6 || vs[0].Name != Name(0) || vs[1].Version != "1.1.0" || !strings.Contains(string(vs[0].ServerJSON), Name(0)) {
		t.Fatalf("dataset %+v", vs[:2])
	}
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		if seen[Name(i)] {
			t.Fatalf("duplicate name %s", Name(i))
		}
		seen[Name(i)] = true
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
	f.Add("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _, _, _ = readResponse(bufio.NewReader(strings.NewReader(s)), nil)
	})
}
