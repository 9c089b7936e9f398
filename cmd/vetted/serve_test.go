package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `vetted serve args…` in process and returns the bound address (read from
// the "serving" log line) and a function that stops it and returns its error.
func startServe(t *testing.T, environ map[string]string, args ...string) (addr string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return environ[k] }}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...), e)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for addr == "" {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr = line.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("serve did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return addr, stop
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeEmptyDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr, stop := startServe(t, nil, "--data-dir", dir)
	code, body := httpGet(t, "http://"+addr+"/v0.1/servers")
	if code != 200 || body != "{\"servers\":[],\"metadata\":{\"count\":0}}\n" {
		t.Fatalf("GET /v0.1/servers = %d %q", code, body)
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/metrics"} {
		if code, body := httpGet(t, "http://"+addr+p); code != 200 {
			t.Errorf("GET %s = %d %s", p, code, body)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, sqliteFile)); err != nil {
		t.Errorf("SQLite database not created in the data dir: %v", err)
	}
}

func TestServePostgres(t *testing.T) {
	dsn := testSchemaDSN(t, testenv.PostgresDSN(t))
	addr, stop := startServe(t, map[string]string{"VETTED_DATABASE": dsn}, "--data-dir", t.TempDir())
	if code, body := httpGet(t, "http://"+addr+"/readyz"); code != 200 {
		t.Fatalf("readyz on PostgreSQL = %d %s", code, body)
	}
	if code, _ := httpGet(t, "http://"+addr+"/v0.1/servers?limit=1"); code != 200 {
		t.Fatalf("list on PostgreSQL = %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// testSchemaDSN creates a schema of the test's own, dropped at cleanup, and returns dsn with
// its search_path set to it (pgx passes unknown URL parameters on as run-time settings).
func testSchemaDSN(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "vetted_serve_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func TestServePostgresUsesOwnSchema(t *testing.T) {
	dsn := testSchemaDSN(t, testenv.PostgresDSN(t))
	schema := dsn[strings.LastIndex(dsn, "=")+1:]
	addr, stop := startServe(t, map[string]string{"VETTED_DATABASE": dsn}, "--data-dir", t.TempDir())
	_ = addr
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n); err != nil || n == 0 {
		t.Fatalf("no tables in %s (%d, %v): the search_path was not used", schema, n, err)
	}
}
