package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/bench/loadgen"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
)

// benchPublisher is the whole publish path against go-containerregistry's registry on
// loopback: attest verification of a cosign-signed image with SBOM and tool-manifest
// attestations, a scan against a warm OSV index, tool manifest hashing and lint, the SQLite
// transaction and the signed VSA, through the HTTP handler.
type benchPublisher struct {
	reg *sigtest.Registry
	key *sigtest.Key
	h   http.Handler
}

type benchStore interface {
	registry.Store
	registry.PublishStore
	registry.EvidenceStore
}

const benchTools = `{"tools":[{"name":"forecast","description":"Get the forecast for a city","inputSchema":{"type":"object","properties":{"city":{"type":"string"}}}}]}`

func benchSPDX() string {
	var pk []string
	for i := 0; i < 200; i++ {
		pk = append(pk, fmt.Sprintf(`{"name":"pkg%d","SPDXID":"SPDXRef-Package-%d","versionInfo":"1.0.%d","downloadLocation":"NOASSERTION","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/pkg%d@1.0.%d"}]}`, i, i, i, i, i))
	}
	return `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"w","documentNamespace":"https://example.com/w",
"creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: bench"]},"packages":[` + strings.Join(pk, ",") + `]}`
}

func newBenchPublisher(b *testing.B, st benchStore) *benchPublisher {
	b.Helper()
	p := &benchPublisher{reg: sigtest.NewRegistry(b, false, nil), key: sigtest.NewKey(b)}
	pol, err := attest.ParsePolicy([]byte("authorities:\n  - name: k\n    key:\n      pem: |\n        " +
		strings.ReplaceAll(strings.TrimSpace(p.key.PublicPEM(b)), "\n", "\n        ") + "\nrequire: {signature: true, sbom: true, tools: true}\n"))
	if err != nil {
		b.Fatal(err)
	}
	v, _ := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "*", Policy: pol}}, attest.WithInsecureRegistries(p.reg.Host))
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "npm"), 0o755)
	for i := 0; i < 500; i++ { // a warm index with some records touching the SBOM's packages
		os.WriteFile(filepath.Join(dir, "npm", fmt.Sprintf("B-%d.json", i)), []byte(fmt.Sprintf(`{"schema_version":"1.6.0","id":"B-%d","modified":"2026-01-01T00:00:00Z",
"affected":[{"package":{"ecosystem":"npm","name":"pkg%d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.1"}]}]}],"database_specific":{"severity":"LOW"}}`, i, i)), 0o644)
	}
	idx, err := scan.OpenIndex(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := adapt.NewScanner(func() *match.Index { return idx }, adapt.DefaultScanPolicy, nil)
	k, _ := vsa.LoadOrCreateKey(filepath.Join(b.TempDir(), "k.pem"))
	signer, _ := vsa.NewSigner(k)
	pipe, err := registry.NewPipeline(st, v, sc, adapt.NewToolInspector(),
		registry.WithVSASigner(registry.NewVSAKeySigner(signer, "https://bench", "bench")))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(st, WithPublishing(PublishConfig{Pipeline: pipe, Evidence: st,
		Caller: func(context.Context) (string, registry.Authorizer) {
			return "bench", registry.AuthorizerFunc(func(string) error { return nil })
		}}))
	if err != nil {
		b.Fatal(err)
	}
	p.h = srv.Handler()
	return p
}

// prepare pushes and signs one image per version.
func (p *benchPublisher) prepare(b *testing.B, n int) []string {
	sbom := benchSPDX()
	refs := make([]string, n)
	for i := range refs {
		tag := fmt.Sprintf("v%d", i)
		d := p.reg.PushImage(b, "acme/w", tag)
		ref := p.reg.Ref("acme/w", tag)
		payload := sigtest.SimpleSigning(ref, d)
		p.reg.AttachSig(b, "acme/w", d, sigtest.SigLayer(payload, p.key.Sign(b, payload), nil))
		p.reg.AttachAtt(b, "acme/w", d,
			sigtest.AttLayer(p.key.DSSE(b, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateSPDX, sbom))),
			sigtest.AttLayer(p.key.DSSE(b, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateToolManifest, benchTools))))
		refs[i] = ref
	}
	return refs
}

func (p *benchPublisher) publish(b *testing.B, i int, ref string) {
	body := pubBody("io.github.acme/w", fmt.Sprintf("1.0.%d", i), ref)
	r := httptest.NewRequest(http.MethodPost, "/v0.1/publish", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"decision":"published"`) {
		b.Fatalf("publish %d: %d %.300s", i, w.Code, w.Body.String())
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

func benchStores() []struct {
	name string
	open func(b *testing.B) benchStore
} {
	return []struct {
		name string
		open func(b *testing.B) benchStore
	}{
		{"sqlite", func(b *testing.B) benchStore { return openSQLite(b).(*sqlite.Store) }},
		{"postgres", func(b *testing.B) benchStore { return openPostgres(b).(benchStore) }},
	}
}

// BenchmarkPublish: latency of one publish (p50/p99 reported), on SQLite and PostgreSQL.
func BenchmarkPublish(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) { benchPublish(b, newBenchPublisher(b, s.open(b))) })
	}
}

func benchPublish(b *testing.B, p *benchPublisher) {
	refs := p.prepare(b, b.N)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		p.publish(b, i, refs[i])
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(ds, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkReadLatestDuringPublish: GET …/versions/latest throughput (in process, parallel)
// while a publisher keeps publishing new versions (each invalidating the response cache).
func BenchmarkReadLatestDuringPublish(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) { benchReadDuringPublish(b, newBenchPublisher(b, s.open(b))) })
	}
}

func benchReadDuringPublish(b *testing.B, p *benchPublisher) {
	const versions = 40
	refs := p.prepare(b, versions)
	p.publish(b, 0, refs[0])
	stop := make(chan struct{})
	var published atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i < versions; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.publish(b, i, refs[i])
			published.Add(1)
		}
	}()
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "/v0.1/servers/io.github.acme%2Fw/versions/latest", nil)
			w := httptest.NewRecorder()
			p.h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Errorf("read: %d", w.Code)
				return
			}
		}
	})
	el := time.Since(t0)
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(b.N)/el.Seconds(), "reads/s")
	b.ReportMetric(float64(published.Load()), "publishes-during")
}

// BenchmarkReadLatestHTTPDuringPublish: the same over real HTTP on loopback (64 keep-alive
// connections, bench/loadgen) for 5 s while versions keep being published; one run per
// benchmark iteration (use -benchtime 1x).
func BenchmarkReadLatestHTTPDuringPublish(b *testing.B) {
	for _, s := range benchStores() {
		b.Run(s.name, func(b *testing.B) {
			p := newBenchPublisher(b, s.open(b))
			const versions = 60
			refs := p.prepare(b, versions)
			p.publish(b, 0, refs[0])
			ts := httptest.NewServer(p.h)
			defer ts.Close()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				ctx, cancel := context.WithCancel(context.Background())
				var published atomic.Int64
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := 1 + n*versions; i < versions*(n+1) && ctx.Err() == nil; i++ {
						p.publish(b, i, refs[i%versions])
						published.Add(1)
					}
				}()
				res, err := loadgen.Run(context.Background(), loadgen.Config{Target: ts.URL, Connections: 64, Duration: 5 * time.Second,
					Next: func(int, []byte) string { return "/v0.1/servers/io.github.acme%2Fw/versions/latest" }})
				cancel()
				<-done
				if err != nil || res.Errors > 0 {
					b.Fatalf("load: %v %+v", err, res)
				}
				b.ReportMetric(res.RPS(), "req/s")
				b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(published.Load()), "publishes-during")
			}
		})
	}
}
