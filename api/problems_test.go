package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// fill repeats item(i) inside prefix…suffix until the document is as close to max bytes as
// it gets.
func fill(prefix, suffix string, max int, item func(i int) string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; ; i++ {
		it := item(i)
		if i > 0 {
			it = "," + it
		}
		if b.Len()+len(it)+len(suffix) > max {
			break
		}
		b.WriteString(it)
	}
	b.WriteString(suffix)
	return b.String()
}

// caseVariant is the i-th spelling of k under case folding (bit j of i upper-cases letter
// j; every third one uses the Kelvin sign or long s where it can).
func caseVariant(k string, i int) string {
	var b strings.Builder
	for j, r := range k {
		switch {
		case i%3 == 2 && (r == 'k' || r == 's'):
			if r == 'k' {
				b.WriteRune('\u212a')
			} else {
				b.WriteRune('\u017f')
			}
		case i>>uint(j%30)&1 == 1:
			b.WriteString(strings.ToUpper(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// worstBodies are publish bodies of the maximum size built to make an answer large: many
// unknown keys (each once repeated the whole object), case variants, duplicates, keys deep
// inside packages and the free-form _meta, one huge key, deep nesting.
func worstBodies() map[string]string {
	max := registry.MaxServerJSON
	head := `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0",`
	pkgs := `"packages":[{"registryType":"oci","identifier":"ghcr.io/acme/w:1","transport":{"type":"stdio"}}]`
	return map[string]string{
		"unknown keys":       fill(head+pkgs+",", "}", max, func(i int) string { return fmt.Sprintf(`"k%x":0`, i) }),
		"one-letter objects": fill(head+pkgs+",", "}", max, func(i int) string { return fmt.Sprintf(`"%x":{}`, i) }),
		"case variants":      fill(head+pkgs+",", "}", max, func(i int) string { return strconv.Quote(caseVariant("packagesdescription", i+1)) + ":[]" }),
		"exact duplicates":   fill(head+pkgs+",", "}", max, func(int) string { return `"name":"io.github.other/x"` }),
		"package keys":       fill(head+`"packages":[{"registryType":"oci","identifier":"ghcr.io/acme/w:1","transport":{"type":"stdio"},`, "}]}", max, func(i int) string { return fmt.Sprintf(`"Identifier%d":"x"`, i) }),
		"many packages": fill(head+`"packages":[`, "]}", max, func(i int) string {
			return `{"registryType":"oci","identifier":"ghcr.io/acme/unsigned:1","transport":{"type":"stdio"},"X":1}`
		}),
		"meta case collisions": fill(head+pkgs+`,"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{`, "}}}", max, func(i int) string {
			return strconv.Quote(caseVariant("dev.vetted/tools", i)) + ":0"
		}),
		"huge key":       head + pkgs + `,"` + strings.Repeat("\u212a", (max-len(head)-len(pkgs)-8)/3) + `":0}`,
		"deep arrays":    head + `"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"a":` + strings.Repeat("[", max-len(head)-100) + "}",
		"wrong types":    fill(head+`"packages":[`, "]}", max, func(i int) string { return `{"registryType":1,"identifier":[],"transport":"x"}` }),
		"huge value":     head + pkgs + `,"title":"` + strings.Repeat(`\u0001`, (max-len(head)-len(pkgs)-20)/6) + `"}`,
		"syntax at end":  fill(head+pkgs+`,"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{`, `}`, max, func(i int) string { return fmt.Sprintf(`"p%d":"%s"`, i, strings.Repeat("v", 50)) }),
		"too large by 1": head + pkgs + `,"title":"` + strings.Repeat("t", max-len(head)-len(pkgs)) + `"}`,
	}
}

// procKB reads a "Vm…" line of /proc/self/status, in bytes.
func procKB(t testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatalf("peak RSS needs /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// peakRSSGrowth runs f and returns how far the process's peak resident set rose above
// what it was before (Linux: the high-water mark is reset through /proc/self/clear_refs).
func peakRSSGrowth(t testing.TB, f func()) int64 {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is measured through Linux's /proc")
	}
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset the RSS high-water mark: %v", err)
	}
	base := procKB(t, "VmHWM")
	f()
	return procKB(t, "VmHWM") - base
}

// Issue 17 item 3: the maximum publish body with the worst key patterns gets an answer
// under 16 KiB with at most 20 errors (then "and N more") and no echoed values, and the
// server's peak RSS grows by less than 64 MiB.
func TestPublishWorstBodiesBounded(t *testing.T) {
	srv, _ := newPublishServer(t)
	h := srv.Handler()
	bodies := worstBodies()
	// Warm up (first request allocates the caches, the schema, the metrics).
	post(t, h, "/v0.1/publish", pubBody("io.github.acme/warm", "1.0.0", "ghcr.io/acme/w:1"))
	type result struct {
		code int
		body string
	}
	results := map[string]result{}
	growth := peakRSSGrowth(t, func() {
		for name, b := range bodies {
			r := post(t, h, "/v0.1/publish", b)
			results[name] = result{r.code, r.body}
		}
	})
	for name, r := range results {
		if r.code < 400 || r.code >= 500 {
			t.Errorf("%s (%d bytes): %d %.300s", name, len(bodies[name]), r.code, r.body)
			continue
		}
		if len(r.body) >= 16<<10 {
			t.Errorf("%s: answer of %d bytes", name, len(r.body))
		}
		var p struct {
			Errors []struct {
				Message string
				Value   any
			}
		}
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(p.Errors) > MaxProblemErrors+1 {
			t.Errorf("%s: %d errors", name, len(p.Errors))
		}
		for _, e := range p.Errors {
			if _, isObj := e.Value.(map[string]any); isObj {
				t.Errorf("%s: a whole value echoed", name)
			}
		}
		t.Logf("%-20s %6d-byte body → %d, %5d-byte answer, %2d errors", name, len(bodies[name]), r.code, len(r.body), len(p.Errors))
	}
	for _, name := range []string{"unknown keys", "case variants", "exact duplicates", "package keys", "meta case collisions", "wrong types"} {
		if !strings.Contains(results[name].body, `more","value":`) {
			t.Errorf("%s: no \"and N more\": %.400s", name, results[name].body)
		}
	}
	if results["too large by 1"].code != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", results["too large by 1"].code)
	}
	t.Logf("peak RSS growth over %d worst bodies: %.1f MiB", len(bodies), float64(growth)/(1<<20))
	if growth > 64<<20 {
		t.Fatalf("peak RSS grew by %d MiB", growth>>20)
	}
}

// Problems are bounded on every route, whoever builds them: a huma validation failure
// with thousands of unexpected properties, a 404 naming a huge path, and a synthetic
// problem with 10,000 errors and whole values.
func TestProblemsBoundedOnEveryRoute(t *testing.T) {
	st := openSQLite(t)
	desk, err := registry.NewDesk(st.(registry.DeskStore))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, st, WithReview(ReviewConfig{Desk: desk, ToolVersion: "t", Actor: func(context.Context) string { return "r|1" }}))
	h := srv.Handler()
	reason := fill(`{"reason":"x",`, "}", maxReviewBody, func(i int) string { return fmt.Sprintf(`"R%x":{"a":[1,2,3]}`, i) })
	r := post(t, h, ReviewPrefix+"/servers/io.github.acme%2Fw/versions/1.0.0/approve", reason)
	if r.code != http.StatusUnprocessableEntity || len(r.body) >= 16<<10 || !strings.Contains(r.body, "unexpected property") ||
		!strings.Contains(r.body, `more","value":`) || strings.Contains(r.body, `"a":[1,2,3]`) {
		t.Fatalf("review body: %d, %d bytes: %.600s", r.code, len(r.body), r.body)
	}
	// Case variants of a known property are unexpected too (huma.ValidateStrictCasing).
	if r := post(t, h, ReviewPrefix+"/servers/io.github.acme%2Fw/versions/1.0.0/approve", `{"reason":"ok","Reason":""}`); r.code != 422 ||
		!strings.Contains(r.body, `"location":"body.Reason"`) {
		t.Fatalf("case variant: %d %s", r.code, r.body)
	}
	long := "/" + strings.Repeat("a", 100<<10)
	if g := get(t, h, long); g.code != 404 || len(g.body) > 2<<10 {
		t.Fatalf("404: %d, %d bytes", g.code, len(g.body))
	}

	big := map[string]any{"k": strings.Repeat("v", 1<<20)}
	var errs []error
	for i := 0; i < 10000; i++ {
		errs = append(errs, &huma.ErrorDetail{Location: "body.k" + strconv.Itoa(i) + strings.Repeat("x", 1000), Message: strings.Repeat("m", 5000), Value: big})
	}
	errs = append(errs, &huma.ErrorDetail{Location: "body.s", Message: "string value", Value: strings.Repeat("s", 5000)})
	v, err := boundProblems(nil, "422", huma.NewError(422, strings.Repeat("d", 1<<20), errs...))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	var p huma.ErrorModel
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(b) > MaxProblemBytes || len(p.Errors) > MaxProblemErrors+1 || len(p.Detail) > maxProblemDetail ||
		!strings.HasPrefix(p.Errors[len(p.Errors)-1].Message, "and ") || p.Errors[0].Value != nil {
		t.Fatalf("%d bytes, %d errors: %.500s", len(b), len(p.Errors), b)
	}
	// The "and N more" count adds up: shown + N = 10,001.
	var n int
	fmt.Sscanf(p.Errors[len(p.Errors)-1].Message, "and %d more", &n)
	if n+len(p.Errors)-1 != 10001 {
		t.Fatalf("%d shown + %d more", len(p.Errors)-1, n)
	}
	// A short string value is echoed clipped; a small problem is left as is.
	small := huma.NewError(400, "bad", &huma.ErrorDetail{Location: "query.limit", Message: "not a number", Value: strings.Repeat("z", 500)})
	v, _ = boundProblems(nil, "400", small)
	if got := v.(*huma.ErrorModel).Errors[0].Value.(string); len(got) > maxProblemValue || !strings.HasSuffix(got, "…") {
		t.Fatalf("value %q", got)
	}
}
