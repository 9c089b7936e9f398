package capture

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/internal/mcp/mcptest"
)

func TestMain(m *testing.M) {
	mcptest.MaybeServe()
	os.Exit(m.Run())
}

func inMemory(t *testing.T, s *mcptest.Server) Target {
	t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), s.Transport(st), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	return Transport(ct, "in-memory")
}

func TestCaptureInMemoryPagesThroughTools(t *testing.T) {
	m, err := Capture(context.Background(), inMemory(t, mcptest.New()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range m.Sorted() {
		names = append(names, tool.Name)
	}
	// PageSize is 2, so four tools took two pages.
	if got := strings.Join(names, ","); got != "add,echo,get_weather,rug_pull" {
		t.Fatalf("tools = %s", got)
	}
}

func TestCaptureKeepsUnknownFields(t *testing.T) {
	s := mcptest.New()
	s.Extras = mcptest.SampleExtras()
	m, err := Capture(context.Background(), inMemory(t, s), Options{})
	if err != nil {
		t.Fatal(err)
	}
	echo := m.Tool("echo")
	for _, member := range []string{"x-vendor", "_meta", "execution"} {
		if echo.Value.Get(member) == nil {
			t.Errorf("member %q dropped from %s", member, echo.Raw)
		}
	}
	plain, err := Capture(context.Background(), inMemory(t, mcptest.New()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Tool("echo").Digest == echo.Digest {
		t.Error("unknown members did not change the tool digest")
	}
	if plain.Tool("add").Digest != m.Tool("add").Digest {
		t.Error("unrelated tool's digest changed")
	}
}

func TestCaptureStdioAndHTTPAgree(t *testing.T) {
	ctx := context.Background()
	stdio, err := Capture(ctx, Command(mcptest.Command("v1")), Options{})
	if err != nil {
		t.Fatalf("stdio: %v", err)
	}
	s := mcptest.New()
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.Server }, nil))
	defer srv.Close()
	overHTTP, err := Capture(ctx, HTTP(srv.URL, srv.Client()), Options{})
	if err != nil {
		t.Fatalf("http: %v", err)
	}
	if stdio.Digest != overHTTP.Digest {
		t.Errorf("stdio %s != http %s", stdio.Digest, overHTTP.Digest)
	}
	pulled, err := Capture(ctx, Command(mcptest.Command("rugpulled")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Tool("get_weather").Digest == stdio.Tool("get_weather").Digest {
		t.Error("rug pull not visible in digest")
	}
	if pulled.Tool("add").Digest != stdio.Tool("add").Digest {
		t.Error("unchanged tool's digest differs between runs")
	}
}

func TestCaptureSilentServerTimesOut(t *testing.T) {
	start := time.Now()
	_, err := Capture(context.Background(), Command(mcptest.Command("silent")), Options{Timeout: time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestCaptureMessageLimit(t *testing.T) {
	_, err := Capture(context.Background(), Command(mcptest.Command("v1")), Options{MaxMessageBytes: 300, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("want ErrMessageTooLarge, got %v", err)
	}
}

func TestCaptureMissingCommand(t *testing.T) {
	_, err := Capture(context.Background(), Command(exec.Command("/nonexistent/mcp-server")), Options{Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "starting server") {
		t.Fatalf("want a start error, got %v", err)
	}
}

// TestSDKToolTypeDropsUnknownFields documents why capture taps raw JSON: the SDK's typed
// result loses members it does not know.
func TestSDKToolTypeDropsUnknownFields(t *testing.T) {
	s := mcptest.New()
	s.Extras = mcptest.SampleExtras()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := s.Connect(context.Background(), s.Transport(st), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for tool, err := range cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if tool.Name != "echo" {
			continue
		}
		b, _ := json.Marshal(tool)
		if strings.Contains(string(b), "x-vendor") {
			t.Errorf("the SDK now keeps unknown tool members (%s): the raw tap may no longer be needed", b)
		}
		return
	}
	t.Fatal("echo not listed")
}

func TestCaptureSilentHTTPServerTimesOut(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // accept the request, never answer
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	start := time.Now()
	_, err := Capture(context.Background(), HTTP(srv.URL, srv.Client()), Options{Timeout: time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the 1s limit took %s to enforce", d)
	}
}
