package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vetted-dev/vetted/api/auth"
)

// chromiumPath finds Debian's chromium. The browser test is skipped only when it is absent
// and VETTED_REQUIRE_BROWSER is not 1 (CI sets it, and installs chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VETTED_REQUIRE_BROWSER") == "1" {
		t.Fatal("VETTED_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); set VETTED_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// artifactsDir is where screenshots go: $VETTED_ARTIFACTS_DIR, or ./artifacts.
func artifactsDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("VETTED_ARTIFACTS_DIR")
	if d == "" {
		d = "artifacts"
	}
	d = filepath.Join(d, "ui")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	// Chromium's helper processes may still be writing the profile when the browser has
	// exited, so the profile is not a t.TempDir (whose cleanup fails the test on a directory
	// that is not empty): it is removed after the browser, retried, never failing the test.
	profile, err := os.MkdirTemp("", "vetted-ui-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s left behind", profile)
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Screenshots show the page at the viewport's full width (no scrollbar gutter).
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	// cdproto of chromedp v0.9.2 predates some of Chromium's newer event values; those
	// events are irrelevant here and their decoding errors are dropped.
	ctx, cancel2 := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, a ...any) {
		if msg := fmt.Sprintf(format, a...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	t.Cleanup(cancel2)
	// Close the browser before its profile is removed.
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	if err := chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func login(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/ui/login"),
		chromedp.WaitVisible(`#token`, chromedp.ByQuery),
		chromedp.SetValue(`#token`, token, chromedp.ByQuery),
		chromedp.Submit(`#token`, chromedp.ByQuery),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
}

// TestBrowserReviewFlow drives real Chromium: a reviewer logs in with a token, opens the
// queue, reads the tool diff, approves, and the read API serves the version; a publisher
// gets the 403 page. Screenshots of the main pages are written as artifacts.
func TestBrowserReviewFlow(t *testing.T) {
	e := newEnv(t)
	ctx := newBrowser(t)
	dir := artifactsDir(t)
	base := e.srv.URL

	login(t, ctx, base, e.token(t, "alice@acme.example", auth.RoleReviewer))
	if h := text(t, ctx, "main h1"); h != "Dashboard" {
		t.Fatalf("after login: %q, want the dashboard: %s", h, text(t, ctx, "main"))
	}
	if body := text(t, ctx, "main"); !strings.Contains(body, "GHSA-xvch-5gv4-984h") || !strings.Contains(body, "pending_review") {
		t.Fatalf("dashboard misses the top vulnerabilities or the counts:\n%s", body)
	}
	shot(t, ctx, dir, "dashboard")

	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/ui/queue"), chromedp.WaitVisible(`table`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if q := text(t, ctx, "table"); !strings.Contains(q, "io.github.acme/weather") || !strings.Contains(q, "tool definition changed") || !strings.Contains(q, "Submitted") || strings.Contains(q, "Published") {
		t.Fatalf("queue:\n%s", q)
	}
	shot(t, ctx, dir, "queue")

	if err := chromedp.Run(ctx,
		chromedp.Click(`a[href="/ui/review/io.github.acme/weather/1.1.0"]`, chromedp.ByQuery, chromedp.NodeVisible),
		chromedp.WaitVisible(`table.worddiff`, chromedp.ByQuery),
		// The full definitions are collapsed below the decision form.
		chromedp.Click(`details.full summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.diff`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("open the review page: %v", err)
	}
	if d := text(t, ctx, "table.diff ins"); !strings.Contains(d, "id_rsa") {
		t.Fatalf("the side-by-side diff does not show the added text: %q", d)
	}
	if d := text(t, ctx, "table.diff del"); !strings.Contains(d, "Get the current weather for a city.") {
		t.Fatalf("the side-by-side diff does not show the old text: %q", d)
	}
	if l := text(t, ctx, "table.findings"); !strings.Contains(l, "sensitive-path") || !strings.Contains(l, `id_rsa`) || !strings.Contains(l, "Get the current weather") {
		t.Fatalf("lint finding not in context: %q", l)
	}
	shot(t, ctx, dir, "review")

	// The read API does not serve it yet.
	if code := get(t, base+"/v0.1/servers/io.github.acme%2Fweather/versions/1.1.0"); code != http.StatusNotFound {
		t.Fatalf("pending version served: %d", code)
	}
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`#approve-reason`, "Description change reviewed with the maintainers; the path is documentation.", chromedp.ByQuery),
		chromedp.Click(`#approve`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if f := text(t, ctx, "p.flash"); !strings.Contains(f, "Approved") {
		t.Fatalf("after approving: %q", f)
	}
	if h := text(t, ctx, "#history + table"); !strings.Contains(h, "review.decision") || !strings.Contains(h, "alice@acme.example") {
		t.Fatalf("the version's history does not show the approval: %q", h)
	}
	shot(t, ctx, dir, "version")

	// The browser now reads the version from the read API.
	var served string
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/v0.1/servers/io.github.acme%2Fweather/versions/1.1.0"),
		chromedp.Text(`body`, &served, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(served, `"version":"1.1.0"`) {
		t.Fatalf("read API after approval: %s", served)
	}

	for _, p := range []struct{ path, name, want string }{
		{"/ui/vulnerabilities?id=CVE-2020-8203", "vulnerability", "io.github.acme/files"},
		{"/ui/vex", "vex", "Record an OpenVEX document"},
		{"/ui/audit", "audit", "review.decision"},
	} {
		if err := chromedp.Run(ctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(`main h1`, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		if body := text(t, ctx, "main"); !strings.Contains(body, p.want) {
			t.Fatalf("%s does not show %q:\n%s", p.path, p.want, body)
		}
		shot(t, ctx, dir, p.name)
	}

	// A publisher signs in and is refused: the 403 page, and no decision form.
	pub := newBrowser(t)
	login(t, pub, base, e.token(t, "ci@acme.example", auth.RolePublisher))
	if err := chromedp.Run(pub, chromedp.Navigate(base+"/ui/review/io.github.acme/notes/0.3.0"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if h, msg := text(t, pub, "main h1"), text(t, pub, "p.error"); h != "Forbidden" || !strings.Contains(msg, "publisher") {
		t.Fatalf("publisher on the review page: %q %q", h, msg)
	}
	var forms int
	if err := chromedp.Run(pub, chromedp.Evaluate(`document.querySelectorAll("#approve").length`, &forms)); err != nil || forms != 0 {
		t.Fatalf("approve form shown to a publisher: %d %v", forms, err)
	}
	shot(t, pub, dir, "forbidden")
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
