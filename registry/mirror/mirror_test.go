package mirror_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
	"github.com/modelcontextprotocol/registry/pkg/model"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/internal/netguard"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
	"github.com/vetted-dev/vetted/registry/mirror"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
)

// upstream is an httptest registry speaking the official v0.1 list API as v1.8.0 does:
// ordered by name and version, "name:version" cursors, updated_since (strictly after),
// include_deleted (forced on by updated_since; false with it is a 400), limit 1–100.
type upstream struct {
	mu       sync.Mutex
	entries  map[string]*upEntry
	requests []url.Values
	srv      *httptest.Server
}

type upEntry struct {
	server  apiv0.ServerJSON
	status  model.Status
	msg     *string
	updated time.Time
	latest  bool
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{entries: map[string]*upEntry{}}
	u.srv = httptest.NewServer(u)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) put(s apiv0.ServerJSON, status model.Status, updated time.Time, latest bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.entries[s.Name+":"+s.Version] = &upEntry{server: s, status: status, updated: updated, latest: latest}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if r.URL.Path != "/v0.1/servers" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	u.requests = append(u.requests, q)
	limit := 30
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		limit = n
	}
	var since time.Time
	if s := q.Get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			http.Error(w, "Invalid updated_since format", http.StatusBadRequest)
			return
		}
		since = t
	}
	incl := q.Get("include_deleted") == "true"
	if !since.IsZero() {
		if q.Get("include_deleted") == "false" {
			http.Error(w, "Cannot set include_deleted=false when using updated_since", http.StatusBadRequest)
			return
		}
		incl = true
	}
	var keys []string
	for k, e := range u.entries {
		if (!since.IsZero() && !e.updated.After(since)) || (e.status == model.StatusDeleted && !incl) {
			continue
		}
		if c := q.Get("cursor"); c != "" && k <= c {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := apiv0.ServerListResponse{Servers: []apiv0.ServerResponse{}}
	for i, k := range keys {
		if i == limit {
			out.Metadata.NextCursor = keys[i-1]
			break
		}
		e := u.entries[k]
		out.Servers = append(out.Servers, apiv0.ServerResponse{Server: e.server, Meta: apiv0.ResponseMeta{Official: &apiv0.RegistryExtensions{
			Status: e.status, StatusMessage: e.msg, StatusChangedAt: e.updated, PublishedAt: e.updated, UpdatedAt: e.updated, IsLatest: e.latest}}})
	}
	out.Metadata.Count = len(out.Servers)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func ociServer(name, version, ref string) apiv0.ServerJSON {
	return apiv0.ServerJSON{
		Schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
		Name:   name, Description: "Weather forecasts", Version: version,
		Packages: []model.Package{{RegistryType: "oci", Identifier: ref, Transport: model.Transport{Type: "stdio"}}},
	}
}

const toolsV1 = `{"tools":[{"name":"forecast","description":"Get the forecast","inputSchema":{"type":"object"}}]}`

func spdx(lodash string) string {
	return `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"weather",
"documentNamespace":"https://example.com/weather","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: test"]},
"packages":[{"name":"lodash","SPDXID":"SPDXRef-Package-lodash","versionInfo":"` + lodash + `","downloadLocation":"NOASSERTION",
"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/lodash@` + lodash + `"}]}]}`
}

// fixture: an in-process OCI registry, acme's release key, the real pipeline over SQLite
// with the curation policy "io.github.acme/* must be signed, with SBOM and tool manifest,
// by acme's key", and an upstream.
type fixture struct {
	reg      *sigtest.Registry
	key      *sigtest.Key
	store    *sqlite.Store
	pipe     *registry.Pipeline
	up       *upstream
	guard    *netguard.Guard
	metrics  *mirror.Metrics
	now      time.Time
	curation mirror.Curation
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{reg: sigtest.NewRegistry(t, false, nil), key: sigtest.NewKey(t), up: newUpstream(t), metrics: mirror.NewMetrics(),
		now:      time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		curation: mirror.Curation{Include: []string{"io.github.acme/*"}, PackageTypes: []string{"oci"}}}
	pol, err := attest.ParsePolicy([]byte("authorities:\n  - name: acme-release\n    key:\n      pem: |\n        " +
		strings.ReplaceAll(strings.TrimSpace(f.key.PublicPEM(t)), "\n", "\n        ") + "\nrequire: {signature: true, sbom: true, tools: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "io.github.acme/*", Policy: pol, Name: "acme"}},
		attest.WithInsecureRegistries(f.reg.Host))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "npm"), 0o755)
	os.WriteFile(filepath.Join(dir, "npm", "GHSA-test-0002.json"), []byte(`{"schema_version":"1.6.0","id":"GHSA-test-0002","modified":"2026-01-01T00:00:00Z",
 "summary":"test fixture","affected":[{"package":{"ecosystem":"npm","name":"lodash"},
 "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],"database_specific":{"severity":"CRITICAL"}}`), 0o644)
	idx, err := scan.OpenIndex(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := adapt.NewScanner(func() *match.Index { return idx }, adapt.DefaultScanPolicy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "vetted.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	if f.pipe, err = registry.NewPipeline(f.store, v, sc, adapt.NewToolInspector()); err != nil {
		t.Fatal(err)
	}
	upURL, _ := url.Parse(f.up.srv.URL)
	if f.guard, err = netguard.New(netguard.AllowURLs(f.up.srv.URL), netguard.AllowNetworks(netip.MustParsePrefix(upURL.Hostname()+"/32"))); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) mirror(t *testing.T, lim mirror.Limits) *mirror.Mirror {
	t.Helper()
	m, err := mirror.New(mirror.Config{Upstream: f.up.srv.URL + "/", Curation: f.curation, Limits: lim, Client: f.guard.Client(),
		Pipeline: f.pipe, Store: f.store, Metrics: f.metrics, Clock: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// push pushes acme/<repo>:<tag>, signed and attested by key (nil: unsigned), with the SBOM
// and tool manifest given.
func (f *fixture) push(t *testing.T, repo, tag string, key *sigtest.Key, sbom, tools string) string {
	t.Helper()
	d := f.reg.PushImage(t, repo, tag)
	ref := f.reg.Ref(repo, tag)
	if key == nil {
		return ref
	}
	payload := sigtest.SimpleSigning(ref, d)
	f.reg.AttachSig(t, repo, d, sigtest.SigLayer(payload, key.Sign(t, payload), nil))
	f.reg.AttachAtt(t, repo, d,
		sigtest.AttLayer(key.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateSPDX, sbom))),
		sigtest.AttLayer(key.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, registry.ToolManifestPredicateHint, tools))))
	return ref
}

func run(t *testing.T, m *mirror.Mirror) *mirror.Report {
	t.Helper()
	rep, err := m.Run(context.Background(), false)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

type counts struct{ fetched, new, published, held, rejected, unchanged, refused, quarantined, skipped, failed int }

func wantCounts(t *testing.T, what string, r *mirror.Report, c counts) {
	t.Helper()
	got := counts{r.Fetched, r.New, r.Published, r.Held, r.Rejected, r.Unchanged, r.Refused, r.Quarantined, r.Skipped, r.Failed}
	if got != c {
		b, _ := json.MarshalIndent(r.Entries, "", "  ")
		t.Fatalf("%s: counts %+v, want %+v\nentries: %s", what, got, c, b)
	}
}

func outcome(t *testing.T, r *mirror.Report, name, version string) mirror.Entry {
	t.Helper()
	for _, e := range r.Entries {
		if e.Name == name && e.Version == version {
			return e
		}
	}
	t.Fatalf("no entry for %s@%s in %+v", name, version, r.Entries)
	return mirror.Entry{}
}

func auditCount(t *testing.T, s *sqlite.Store) []registry.AuditEvent {
	t.Helper()
	es, err := s.AuditEvents(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestMirrorCuratesThroughThePipeline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := sigtest.NewKey(t)
	t0 := f.now.Add(-time.Hour)
	good := f.push(t, "acme/weather", "1.0.0", f.key, spdx("4.17.21"), toolsV1)
	unsigned := f.push(t, "acme/weather", "unsigned", nil, "", "")
	forged := f.push(t, "acme/tides", "1.0.0", other, spdx("4.17.21"), toolsV1)
	vuln := f.push(t, "acme/weather", "vuln", f.key, spdx("4.17.0"), toolsV1)
	f.up.put(ociServer("io.github.acme/weather", "1.0.0", good), model.StatusActive, t0, false)
	f.up.put(ociServer("io.github.acme/weather", "1.0.1", unsigned), model.StatusActive, t0.Add(time.Second), false)
	f.up.put(ociServer("io.github.acme/weather", "1.0.2", vuln), model.StatusActive, t0.Add(2*time.Second), true)
	f.up.put(ociServer("io.github.acme/tides", "1.0.0", forged), model.StatusActive, t0.Add(3*time.Second), true)
	f.up.put(ociServer("io.github.other/thing", "1.0.0", good), model.StatusActive, t0.Add(4*time.Second), true)
	npm := apiv0.ServerJSON{Schema: ociServer("x/y", "1", "").Schema, Name: "io.github.acme/npm-thing", Description: "npm", Version: "1.0.0",
		Packages: []model.Package{{RegistryType: "npm", Identifier: "thing", Version: "1.0.0", Transport: model.Transport{Type: "stdio"}}}}
	f.up.put(npm, model.StatusActive, t0.Add(5*time.Second), true)
	// A version deleted upstream that was never held here: nothing to do.
	f.up.put(ociServer("io.github.acme/weather", "0.9.0", good), model.StatusDeleted, t0.Add(6*time.Second), false)

	m := f.mirror(t, mirror.Limits{PageSize: 3})
	if m.Actor() != "mirror|"+f.up.srv.URL {
		t.Fatalf("actor %q", m.Actor())
	}
	rep := run(t, m)
	wantCounts(t, "first run", rep, counts{fetched: 7, new: 4, published: 1, rejected: 3, skipped: 3})
	if !rep.Complete || rep.Pages != 3 || rep.Since != nil || rep.HighWater == nil || !rep.HighWater.Equal(t0.Add(6*time.Second)) {
		t.Fatalf("report: complete=%v pages=%d since=%v highWater=%v", rep.Complete, rep.Pages, rep.Since, rep.HighWater)
	}
	// Each through the pipeline, each refused for its own reason.
	for _, c := range []struct{ name, version, check, reason string }{
		{"io.github.acme/weather", "1.0.1", registry.CheckSignature, ""},
		{"io.github.acme/weather", "1.0.2", registry.CheckScan, "GHSA-test-0002 (critical) in lodash 4.17.0"},
		{"io.github.acme/tides", "1.0.0", registry.CheckSignature, ""},
	} {
		e := outcome(t, rep, c.name, c.version)
		found := false
		for _, ch := range e.Checks {
			if ch.Name == c.check && ch.Outcome == registry.Fail && strings.Contains(ch.Reason, c.reason) {
				found = true
			}
		}
		if e.Outcome != mirror.OutcomeRejected || !found {
			t.Errorf("%s@%s: %s, want rejected by a failed %s check (%q): %+v", c.name, c.version, e.Outcome, c.check, c.reason, e.Checks)
		}
	}
	if e := outcome(t, rep, "io.github.other/thing", "1.0.0"); e.Outcome != mirror.OutcomeSkipped || !strings.Contains(e.Reason, "curation list") {
		t.Errorf("other namespace: %+v", e)
	}
	if e := outcome(t, rep, "io.github.acme/npm-thing", "1.0.0"); e.Outcome != mirror.OutcomeSkipped || !strings.Contains(e.Reason, `"npm" is not in package_types`) {
		t.Errorf("npm package: %+v", e)
	}
	v, err := f.store.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"})
	if err != nil || v.Status != registry.StatusPublished {
		t.Fatalf("published version: %+v, %v", v, err)
	}
	if _, err := f.store.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.1"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a rejected version is stored: %v", err)
	}
	// The audit chain names the mirror job and its upstream as the actor of every decision.
	events := auditCount(t, f.store)
	if len(events) != 4 {
		t.Fatalf("%d audit events, want 4 (1 published, 3 rejected)", len(events))
	}
	for _, e := range events {
		if e.Type != registry.AuditPublishDecision || e.Actor != "mirror|"+f.up.srv.URL {
			t.Errorf("audit event %d: %s by %q", e.Seq, e.Type, e.Actor)
		}
	}
	if got := counted(t, f, m.Upstream(), mirror.OutcomeRejected); got != 3 {
		t.Errorf("vetted_mirror_entries_total{outcome=rejected} = %v, want 3", got)
	}
	// Every request was incremental-ready: include_deleted, bounded pages.
	for _, q := range f.up.requests {
		if q.Get("include_deleted") != "true" || q.Get("limit") != "3" {
			t.Errorf("request %v", q)
		}
	}

	// Running again is a no-op: the upstream is asked only for what changed since.
	f.up.requests = nil
	rep = run(t, m)
	wantCounts(t, "second run", rep, counts{})
	if len(f.up.requests) != 1 || f.up.requests[0].Get("updated_since") != t0.Add(6*time.Second).Format(time.RFC3339Nano) {
		t.Fatalf("second run asked %v", f.up.requests)
	}
	if n := len(auditCount(t, f.store)); n != 4 {
		t.Fatalf("the second run wrote %d audit events", n-4)
	}

	// A full pass again (the checkpoint lost): everything recorded is unchanged, nothing is
	// decided again.
	if err := f.store.SaveMirrorCheckpoint(ctx, registry.MirrorCheckpoint{Upstream: m.Upstream()}); err != nil {
		t.Fatal(err)
	}
	rep = run(t, m)
	wantCounts(t, "full pass again", rep, counts{fetched: 7, unchanged: 4, skipped: 3})
	if n := len(auditCount(t, f.store)); n != 4 {
		t.Fatalf("the full pass wrote %d audit events", n-4)
	}

	// A new upstream version whose tool description changed is held for review; one the
	// upstream now signs is published.
	f.now = f.now.Add(time.Minute)
	changed := f.push(t, "acme/weather", "1.1.0", f.key, spdx("4.17.21"), `{"tools":[{"name":"forecast","description":"Get the forecast for the next 14 days.","inputSchema":{"type":"object"}}]}`)
	f.up.put(ociServer("io.github.acme/weather", "1.1.0", changed), model.StatusActive, t0.Add(time.Minute), true)
	rep = run(t, m)
	wantCounts(t, "held", rep, counts{fetched: 1, new: 1, held: 1})
	if e := outcome(t, rep, "io.github.acme/weather", "1.1.0"); e.Outcome != mirror.OutcomeHeld || len(e.Checks) == 0 || e.Checks[0].Name != registry.CheckToolsDiff {
		t.Fatalf("held: %+v", e)
	}

	// The upstream changes the content of a stored version: refused, reported, the stored
	// version stays.
	s := ociServer("io.github.acme/weather", "1.0.0", good)
	s.Description = "Weather forecasts, now with exfiltration"
	f.up.put(s, model.StatusActive, t0.Add(2*time.Minute), false)
	rep = run(t, m)
	wantCounts(t, "changed content", rep, counts{fetched: 1, refused: 1})
	if e := outcome(t, rep, "io.github.acme/weather", "1.0.0"); !strings.Contains(e.Reason, "immutable") {
		t.Fatalf("refusal: %+v", e)
	}
	if v2, _ := f.store.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); v2.ContentDigest != v.ContentDigest || v2.Status != registry.StatusPublished {
		t.Fatalf("the stored version changed: %+v", v2)
	}

	// The upstream deletes the version held here: quarantined pending review, audited as the
	// mirror's doing; a second run leaves it so.
	f.up.put(ociServer("io.github.acme/weather", "1.0.0", good), model.StatusDeleted, t0.Add(3*time.Minute), false)
	msg := "malware reported"
	f.up.entries["io.github.acme/weather:1.0.0"].msg = &msg
	rep = run(t, m)
	wantCounts(t, "deleted upstream", rep, counts{fetched: 1, quarantined: 1})
	if v, _ := f.store.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"}); v.Status != registry.StatusQuarantined {
		t.Fatalf("status after the upstream deletion: %s", v.Status)
	}
	events = auditCount(t, f.store)
	last := events[len(events)-1]
	if last.Type != registry.AuditQuarantine || last.Actor != m.Actor() || last.Subject != "io.github.acme/weather@1.0.0" ||
		!strings.Contains(string(last.Data), "malware reported") {
		t.Fatalf("quarantine event: %+v %s", last, last.Data)
	}
	if err := f.store.SaveMirrorCheckpoint(ctx, registry.MirrorCheckpoint{Upstream: m.Upstream()}); err != nil {
		t.Fatal(err)
	}
	rep = run(t, m)
	if e := outcome(t, rep, "io.github.acme/weather", "1.0.0"); e.Outcome != mirror.OutcomeUnchanged || rep.Quarantined != 0 {
		t.Fatalf("deleted again: %+v", e)
	}
}

// counted reads vetted_mirror_entries_total{upstream, outcome} through a Prometheus registry.
func counted(t *testing.T, f *fixture, upstream, outcome string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.metrics.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "vetted_mirror_entries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["upstream"] == upstream && l["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
