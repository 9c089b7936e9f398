package attest_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// zeros is an endless reader of JSON-ish bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	for i := range p {
		p[i] = ' '
	}
	z.n -= int64(len(p))
	return len(p), nil
}

// TestBounds serves a registry that misbehaves: a 1 GiB blob, 10,000 referrers, a slow
// body. Each must fail the discovery check quickly without holding the payload in memory.
func TestBounds(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		name   string
		wrap   func(digest *string) func(http.Handler) http.Handler
		limits attest.Limits
		reason string
	}{
		{
			name: "1 GiB blob without Content-Length",
			wrap: func(*string) func(http.Handler) http.Handler {
				return func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
							w.WriteHeader(http.StatusOK)
							_, _ = io.Copy(w, &zeros{n: gib})
							return
						}
						h.ServeHTTP(w, r)
					})
				}
			},
			reason: "more than 33554432 bytes",
		},
		{
			name: "1 GiB blob announced by Content-Length",
			wrap: func(*string) func(http.Handler) http.Handler {
				return func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
							w.Header().Set("Content-Length", fmt.Sprint(gib))
							w.WriteHeader(http.StatusOK)
							_, _ = io.Copy(w, &zeros{n: 1 << 20})
							return
						}
						h.ServeHTTP(w, r)
					})
				}
			},
			reason: "1073741824 bytes, limit 33554432",
		},
		{
			name: "10,000 referrers",
			wrap: func(digest *string) func(http.Handler) http.Handler {
				return func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if strings.Contains(r.URL.Path, "/referrers/") {
							w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
							var b strings.Builder
							b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
							for i := 0; i < 10000; i++ {
								if i > 0 {
									b.WriteByte(',')
								}
								fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":500,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, i)
							}
							b.WriteString(`]}`)
							_, _ = io.WriteString(w, b.String())
							return
						}
						h.ServeHTTP(w, r)
					})
				}
			},
			reason: "10000 referrers, limit 64",
		},
		{
			name: "a body that trickles",
			wrap: func(*string) func(http.Handler) http.Handler {
				return func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
							w.WriteHeader(http.StatusOK)
							for i := 0; i < 100; i++ {
								_, _ = w.Write([]byte(" "))
								w.(http.Flusher).Flush()
								select {
								case <-r.Context().Done():
									return
								case <-time.After(100 * time.Millisecond):
								}
							}
							return
						}
						h.ServeHTTP(w, r)
					})
				}
			},
			limits: attest.Limits{Timeout: 500 * time.Millisecond},
			reason: "deadline exceeded",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ss := sigtest.New(t)
			var digest string
			reg := sigtest.NewRegistry(t, true, c.wrap(&digest))
			d := reg.PushImage(t, "acme/weather", "v1")
			bun := ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
			reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
			f := &fixture{t: t, ss: ss, reg: reg}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res := f.verify(reg.Ref("acme/weather", d), sigPolicy, attest.WithLimits(c.limits))
			runtime.ReadMemStats(&after)
			wantFail(t, res, attest.CheckDiscovery, c.reason, "", "")
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
				t.Errorf("allocated %d MiB while rejecting", grown>>20)
			}
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}
