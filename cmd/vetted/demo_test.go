package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startDemo runs `vetted demo` in process until the test ends and returns its URL, reviewer
// token and complete banner.
func startDemo(t *testing.T, dataDir string) (url, token, banner string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	args := []string{"demo", "--addr", "127.0.0.1:0"}
	if dataDir != "" {
		args = append(args, "--data-dir", dataDir)
	}
	go func() {
		done <- run(ctx, args, &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo did not stop cleanly: %v", err)
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stdout.String(), "serving until interrupted") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("demo exited early: %v\n%s\n%s", err, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not get ready:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	banner = stdout.String()
	m := regexp.MustCompile(`(?m)^registry: +(http://\S+)$`).FindStringSubmatch(banner)
	tk := regexp.MustCompile(`(?m)^reviewer token: (\S+)$`).FindStringSubmatch(banner)
	if m == nil || tk == nil {
		t.Fatalf("banner lacks the URL or the reviewer token line:\n%s", banner)
	}
	return m[1], tk[1], banner
}

func getAs(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemo runs `vetted demo` end to end: the four publishes get their decisions from the
// real pipeline, the read API serves only the published one, the reviewer token opens the
// queue and the pages, the printed resolve command verifies, and a browser renders the
// dashboard without horizontal overflow (screenshots under $VETTED_ARTIFACTS_DIR/demo).
func TestDemo(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "demo")
	url, token, banner := startDemo(t, dataDir)
	for _, want := range []string{
		"published       io.github.demo/weather@1.0.0",
		"rejected        io.github.demo/weather-legacy@0.9.0",
		"VETTED-DEMO-0001 (critical) in lodash 4.17.11",
		"pending_review  io.github.demo/weather@1.1.0",
		"review tools.diff",
		"rejected        io.github.demo/weather-plus@1.0.0",
		"fail   tools.lint",
		"sign in at " + url + "/ui",
		"curl -s " + url + "/v0.1/servers",
		"vetted resolve io.github.demo/weather --registry " + url + " --verify",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("banner:\n%s", banner)
	}
	for _, f := range []string{"vetted.yaml", "demo-policy.yaml", "vetted.db", "osv/npm/VETTED-DEMO-0001.json", "osv/ATTRIBUTION.md"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("data directory: %v", err)
		}
	}

	code, body := getAs(t, url+"/v0.1/servers", "")
	if code != http.StatusOK || !strings.Contains(body, `"io.github.demo/weather"`) || !strings.Contains(body, `"version":"1.0.0"`) {
		t.Fatalf("servers: %d %s", code, body)
	}
	for _, hidden := range []string{"weather-legacy", "weather-plus", `"version":"1.1.0"`} {
		if strings.Contains(body, hidden) {
			t.Errorf("the read API serves %s, which was not published: %s", hidden, body)
		}
	}
	code, body = getAs(t, url+"/v0.1/x/dev.vetted/review/queue", token)
	if code != http.StatusOK || !strings.Contains(body, "io.github.demo/weather") || !strings.Contains(body, "1.1.0") {
		t.Fatalf("review queue with the reviewer token: %d %s", code, body)
	}
	if code, _ := getAs(t, url+"/v0.1/x/dev.vetted/review/queue", ""); code != http.StatusUnauthorized {
		t.Fatalf("review queue without a token: %d", code)
	}
	out, stderr, rc := runCLI(t, "resolve", "io.github.demo/weather", "--registry", url, "--verify")
	if rc != 0 || !strings.Contains(out+stderr, "attestation verified") {
		t.Fatalf("resolve --verify: exit %d\n%s\n%s", rc, out, stderr)
	}

	// check and resolve of a version that is not published say its status to a reviewer.
	for _, c := range []struct {
		token, want string
	}{
		{token, "io.github.demo/weather@1.1.0 is not published on " + url + ": its status is pending_review (tools.diff: "},
		{"", "io.github.demo/weather@1.1.0 is not published on " + url + " (it may not exist, or wait for review"},
	} {
		for _, args := range [][]string{
			{"check", "--registry", url, "--server", "io.github.demo/weather@1.1.0", "--", "true"},
			{"resolve", "io.github.demo/weather@1.1.0", "--registry", url},
		} {
			err := run(context.Background(), args, &env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string {
				return map[string]string{"VETTED_TOKEN": c.token}[k]
			}})
			if ExitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s with token %v: exit %d, %v; want %q", args[0], c.token != "", ExitCode(err), err, c.want)
			}
		}
	}

	t.Run("browser", func(t *testing.T) { demoBrowser(t, url, token) })
}

func demoBrowser(t *testing.T, base, token string) {
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("VETTED_REQUIRE_BROWSER") == "1" {
			t.Fatal("VETTED_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium); set VETTED_REQUIRE_BROWSER=1 to make this a failure")
	}
	dir := os.Getenv("VETTED_ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	dir = filepath.Join(dir, "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Chromium may still be writing its profile as it exits: remove it without failing.
	profile, err := os.MkdirTemp("", "vetted-demo-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 800))
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, a ...any) {
		if msg := fmt.Sprintf(format, a...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	defer cancel2()
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	defer cancel3()
	var main string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/ui/login"),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
		chromedp.SetValue(`#token`, token, chromedp.ByQuery),
		chromedp.Submit(`#token`, chromedp.ByQuery),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery),
		chromedp.Text(`main`, &main, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("sign in with the printed token: %v", err)
	}
	if !strings.Contains(main, "Dashboard") || !strings.Contains(main, "io.github.demo/weather") {
		t.Fatalf("after signing in, the dashboard does not show the demo's servers:\n%s", main)
	}
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"dashboard-1280x800", 1280, 800}, {"dashboard-390x844", 390, 844}} {
		var png []byte
		var overflow bool
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Reload(), chromedp.WaitVisible(`main h1`, chromedp.ByQuery),
			chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow),
			chromedp.FullScreenshot(&png, 100)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, vp.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("the dashboard is wider than the page at %dpx (screenshot %s)", vp.w, vp.name)
		}
	}
}

// TestDemoRefusesADataDirInUse: the demo seeds a new registry and never writes over one.
func TestDemoRefusesADataDirInUse(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "vetted.db"), []byte("x"), 0o600)
	err := run(context.Background(), []string{"demo", "--addr", "127.0.0.1:0", "--data-dir", dir}, &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	if ExitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("exit %d, %v", ExitCode(err), err)
	}
}
