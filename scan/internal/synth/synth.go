// Package synth generates a synthetic OSV mirror of realistic shape and size (records over
// npm, PyPI, Go and Maven with range and version-list shapes drawn like the real databases)
// and SBOM package lists that hit it at a realistic rate. Benchmarks use it; it is
// deterministic for a given seed.
package synth

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/vetted-dev/vetted/scan/sbom"
)

// Ecosystem shares of the records and how many distinct package names each has; the names
// are drawn with a Zipf-like skew, as a few packages carry most advisories in real data.
var shapes = []struct {
	eco     string
	share   float64
	names   int
	purlTyp string
}{
	{"npm", 0.35, 30000, "npm"},
	{"Maven", 0.30, 20000, "maven"},
	{"PyPI", 0.20, 14000, "pypi"},
	{"Go", 0.15, 9000, "golang"},
}

// Mirror describes a generated mirror.
type Mirror struct {
	Dir     string
	Records map[string]int // per ecosystem
	Total   int
	Bytes   int64 // archive bytes on disk
	// hits: per ecosystem, names with one affected and one unaffected version each.
	hits map[string][]hit
	seed uint64
}

type hit struct{ name, affected, clean string }

type event map[string]string

type rangeJSON struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []event `json:"events"`
}

type affectedJSON struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		PURL      string `json:"purl,omitempty"`
	} `json:"package"`
	Ranges            []rangeJSON    `json:"ranges,omitempty"`
	Versions          []string       `json:"versions,omitempty"`
	EcosystemSpecific map[string]any `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  map[string]any `json:"database_specific,omitempty"`
}

type refJSON struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type sevJSON struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type recordJSON struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         string         `json:"modified"`
	Published        string         `json:"published"`
	Withdrawn        string         `json:"withdrawn,omitempty"`
	Aliases          []string       `json:"aliases,omitempty"`
	Summary          string         `json:"summary"`
	Details          string         `json:"details"`
	Severity         []sevJSON      `json:"severity,omitempty"`
	Affected         []affectedJSON `json:"affected"`
	References       []refJSON      `json:"references"`
	DatabaseSpecific map[string]any `json:"database_specific,omitempty"`
}

// Generate writes a mirror of n records under dir in the osv.dev layout (dir/<Eco>/all.zip)
// and, when scalibrLinks is set, osv-scanner's layout beside it (dir/osv-scalibr/<Eco>/all.zip
// as hard links to the same files). modifiedShare of the records get a later "modified" in the
// variant "b" (see Variant).
func Generate(dir string, n int, seed uint64, scalibrLinks bool) (*Mirror, error) {
	m := &Mirror{Dir: dir, Records: map[string]int{}, hits: map[string][]hit{}, seed: seed}
	var wg sync.WaitGroup
	errs := make([]error, len(shapes))
	hits := make([][]hit, len(shapes))
	for i, sh := range shapes {
		count := int(math.Round(float64(n) * sh.share))
		m.Records[sh.eco] = count
		m.Total += count
		wg.Go(func() {
			hits[i], errs[i] = writeEcosystem(dir, sh.eco, sh.names, count, seed+uint64(i), 0)
		})
	}
	wg.Wait()
	for i, sh := range shapes {
		if errs[i] != nil {
			return nil, errs[i]
		}
		m.hits[sh.eco] = hits[i]
		st, err := os.Stat(filepath.Join(dir, sh.eco, "all.zip"))
		if err != nil {
			return nil, err
		}
		m.Bytes += st.Size()
		if scalibrLinks {
			d := filepath.Join(dir, "osv-scalibr", sh.eco)
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
			if err := os.Link(filepath.Join(dir, sh.eco, "all.zip"), filepath.Join(d, "all.zip")); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Variant writes a second mirror into dir2: the same records as Generate(dir, n, seed), except
// that `changed` records (spread over every ecosystem) are modified (a new fixed version or
// range) — what a day or so of OSV updates looks like.
func Variant(dir2 string, n int, seed uint64, changed int) error {
	var wg sync.WaitGroup
	errs := make([]error, len(shapes))
	for i, sh := range shapes {
		count := int(math.Round(float64(n) * sh.share))
		ch := int(math.Round(float64(changed) * sh.share))
		wg.Go(func() {
			_, errs[i] = writeEcosystem(dir2, sh.eco, sh.names, count, seed+uint64(i), ch)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeEcosystem(dir, eco string, names, count int, seed uint64, changed int) ([]hit, error) {
	d := filepath.Join(dir, eco)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(d, "all.zip"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		fw.Reset(w) // one compressor per archive: entries are written one after the other
		return fw, nil
	})
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	zipf := rand.NewZipf(r, 1.2, 50, uint64(names-1)) // the busiest names get a few hundred records, as tensorflow, jackson-databind or the Go stdlib do
	g := &gen{r: r, eco: eco}
	hitSet := map[string]hit{}
	// Records whose content changes in a variant: every k-th record.
	every := 0
	if changed > 0 {
		every = count / changed
	}
	for i := range count {
		rec, h := g.record(i, int(zipf.Uint64()), names)
		if every > 0 && i%every == 0 && i/every < changed {
			g.mutate(&rec)
		}
		if h.name != "" && len(hitSet) < 4000 {
			if _, ok := hitSet[h.name]; !ok {
				hitSet[h.name] = h
			}
		}
		w, err := zw.Create(rec.ID + ".json")
		if err != nil {
			return nil, err
		}
		if err := json.NewEncoder(w).Encode(&rec); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	out := make([]hit, 0, len(hitSet))
	for _, h := range hitSet {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, f.Close()
}

type gen struct {
	r   *rand.Rand
	eco string
}

var words = strings.Fields(`the a an of in to and allows remote attackers via crafted request
	denial service prototype pollution cross site scripting injection arbitrary code execution path
	traversal regular expression memory exhaustion deserialization untrusted data header parsing
	buffer overflow improper validation input authentication bypass certificate verification`)

func (g *gen) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[g.r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.String()
}

// Name returns the i-th package name of an ecosystem.
func Name(eco string, i int) string {
	switch eco {
	case "npm":
		if i%7 == 0 {
			return fmt.Sprintf("@scope%d/pkg-%d", i%97, i)
		}
		return fmt.Sprintf("pkg-%d", i)
	case "PyPI":
		return fmt.Sprintf("py-pkg-%d", i)
	case "Go":
		return fmt.Sprintf("github.com/org%d/mod%d", i%211, i)
	case "Maven":
		return fmt.Sprintf("org.example.g%d:artifact-%d", i%311, i)
	}
	return fmt.Sprintf("pkg-%d", i)
}

// vpair returns two increasing versions.
func (g *gen) vpair() (string, string) {
	maj := g.r.IntN(6)
	a := fmt.Sprintf("%d.%d.%d", maj, g.r.IntN(10), g.r.IntN(10))
	b := fmt.Sprintf("%d.%d.%d", maj, 10+g.r.IntN(10), g.r.IntN(10))
	return a, b
}

func (g *gen) cvss() []sevJSON {
	switch x := g.r.IntN(10); {
	case x < 7:
		pick := func(opts ...string) string { return opts[g.r.IntN(len(opts))] }
		return []sevJSON{{"CVSS_V3", fmt.Sprintf("CVSS:3.1/AV:%s/AC:%s/PR:%s/UI:%s/S:%s/C:%s/I:%s/A:%s",
			pick("N", "A", "L"), pick("L", "H"), pick("N", "L", "H"), pick("N", "R"), pick("U", "C"), pick("N", "L", "H"), pick("N", "L", "H"), pick("N", "L", "H"))}}
	case x < 8:
		return []sevJSON{{"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N"}}
	}
	return nil
}

func (g *gen) record(i, nameIdx, names int) (recordJSON, hit) {
	prefix := map[string]string{"npm": "GHSA-npm", "Maven": "GHSA-mvn", "PyPI": "PYSEC-2024", "Go": "GO-2024"}[g.eco]
	rec := recordJSON{
		SchemaVersion: "1.6.0",
		ID:            fmt.Sprintf("%s-%06d", prefix, i),
		Modified:      fmt.Sprintf("2024-%02d-%02dT%02d:00:00Z", 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24)),
		Published:     "2023-01-01T00:00:00Z",
		Summary:       g.text(40 + g.r.IntN(60)),
		Details:       g.text(300 + g.r.IntN(1500)),
		Severity:      g.cvss(),
	}
	if g.r.IntN(100) < 85 {
		rec.Aliases = []string{fmt.Sprintf("CVE-20%02d-%05d", 10+g.r.IntN(15), g.r.IntN(99999))}
	}
	if strings.HasPrefix(prefix, "GHSA") {
		rec.DatabaseSpecific = map[string]any{"severity": []string{"LOW", "MODERATE", "HIGH", "CRITICAL"}[g.r.IntN(4)], "github_reviewed": true, "cwe_ids": []string{"CWE-79"}}
	}
	for range 3 + g.r.IntN(8) {
		rec.References = append(rec.References, refJSON{"WEB", fmt.Sprintf("https://example.com/advisories/%s/%d", rec.ID, g.r.IntN(1e6))})
	}
	blocks := 1
	if g.r.IntN(5) == 0 {
		blocks = 2 + g.r.IntN(2)
	}
	var h hit
	for b := range blocks {
		idx := nameIdx
		if b > 0 {
			idx = g.r.IntN(names)
		}
		a, hh := g.affected(Name(g.eco, idx))
		rec.Affected = append(rec.Affected, a)
		if b == 0 {
			h = hh
		}
	}
	return rec, h
}

func (g *gen) affected(name string) (affectedJSON, hit) {
	var a affectedJSON
	a.Package.Ecosystem, a.Package.Name = g.eco, name
	typ := "ECOSYSTEM"
	if g.eco == "Go" {
		typ = "SEMVER"
		a.EcosystemSpecific = map[string]any{"imports": []map[string]any{{"path": name + "/internal/x", "symbols": []string{"Parse", "Decode"}}}}
	}
	h := hit{name: name}
	rg := rangeJSON{Type: typ}
	switch x := g.r.IntN(100); {
	case x < 55: // introduced 0, fixed
		_, fixed := g.vpair()
		rg.Events = []event{{"introduced": "0"}, {"fixed": fixed}}
		h.affected, h.clean = "0.0.1", fixed
	case x < 72: // introduced A, fixed B
		intro, fixed := g.vpair()
		rg.Events = []event{{"introduced": intro}, {"fixed": fixed}}
		h.affected, h.clean = intro, fixed
	case x < 84: // several intervals
		maj := g.r.IntN(3)
		for k := range 2 + g.r.IntN(3) {
			rg.Events = append(rg.Events, event{"introduced": fmt.Sprintf("%d.0.0", maj+k*2)}, event{"fixed": fmt.Sprintf("%d.%d.%d", maj+k*2, 1+g.r.IntN(9), g.r.IntN(9))})
		}
		h.affected, h.clean = fmt.Sprintf("%d.0.0", maj), fmt.Sprintf("%d.0.0", maj+1)
	case x < 95: // last_affected
		intro, last := g.vpair()
		rg.Events = []event{{"introduced": intro}, {"last_affected": last}}
		h.affected, h.clean = last, "99.0.0"
	default: // no fix yet
		intro, _ := g.vpair()
		rg.Events = []event{{"introduced": intro}}
		h.affected, h.clean = "50.0.0", "0.0.0"
	}
	if g.eco == "PyPI" && g.r.IntN(10) < 3 {
		a.Ranges = append(a.Ranges, rangeJSON{Type: "GIT", Repo: "https://github.com/example/" + name, Events: []event{{"introduced": "0"}, {"fixed": fmt.Sprintf("%040x", g.r.Uint64())}}})
	}
	a.Ranges = append(a.Ranges, rg)
	// Enumerated versions, as osv.dev adds them for PyPI and Maven (and GHSA npm records).
	if g.eco == "PyPI" || g.eco == "Maven" && g.r.IntN(2) == 0 || g.eco == "npm" && g.r.IntN(4) == 0 {
		n := 5 + g.r.IntN(60)
		if g.r.IntN(20) == 0 {
			n = 150 + g.r.IntN(250)
		}
		for k := range n {
			a.Versions = append(a.Versions, fmt.Sprintf("%d.%d.%d", k/100, (k/10)%10, k%10))
		}
	}
	if g.eco != "Go" {
		a.DatabaseSpecific = map[string]any{"source": "https://example.com/" + name}
	}
	return a, h
}

// mutate changes a record the way updates do: a new modified time and one more interval,
// [90.0.0, 90.1.0), appended to each version range. Versions below 90.0.0 match as before;
// ranges that had no fix are closed from 90.1.0 on, so such versions are resolved.
func (g *gen) mutate(rec *recordJSON) {
	rec.Modified = "2025-06-01T00:00:00Z"
	for i := range rec.Affected {
		for j := range rec.Affected[i].Ranges {
			rg := &rec.Affected[i].Ranges[j]
			if rg.Type == "GIT" {
				continue
			}
			rg.Events = append(rg.Events, event{"introduced": "90.0.0"}, event{"fixed": "90.1.0"})
		}
	}
}

// Packages returns n SBOM packages spread over the ecosystems: about 5% have a version inside
// an affected range, 25% are mirrored names at a clean version, the rest are names no
// advisory mentions (most dependencies have none).
func (m *Mirror) Packages(n int, seed uint64) []sbom.Package {
	r := rand.New(rand.NewPCG(m.seed^seed, 0xb0b))
	out := make([]sbom.Package, 0, n)
	for len(out) < n {
		sh := shapes[r.IntN(len(shapes))]
		var name, version string
		switch x := r.IntN(100); {
		case x < 5 && len(m.hits[sh.eco]) > 0:
			h := m.hits[sh.eco][r.IntN(len(m.hits[sh.eco]))]
			name, version = h.name, h.affected
		case x < 30 && len(m.hits[sh.eco]) > 0:
			h := m.hits[sh.eco][r.IntN(len(m.hits[sh.eco]))]
			name, version = h.name, h.clean
		default:
			name, version = Name(sh.eco, sh.names+r.IntN(1_000_000)), fmt.Sprintf("%d.%d.%d", r.IntN(5), r.IntN(20), r.IntN(20))
		}
		out = append(out, sbom.FromPURL(purlOf(sh.purlTyp, name, version), "", ""))
	}
	return out
}

func purlOf(typ, name, version string) string {
	switch typ {
	case "maven":
		g, a, _ := strings.Cut(name, ":")
		return "pkg:maven/" + g + "/" + a + "@" + version
	case "golang":
		return "pkg:golang/" + name + "@v" + version
	case "npm":
		return "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
	}
	return "pkg:" + typ + "/" + name + "@" + version
}

// CycloneDX renders packages as a CycloneDX 1.6 JSON SBOM.
func CycloneDX(pkgs []sbom.Package) []byte {
	type comp struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
	}
	doc := struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Version     int    `json:"version"`
		Components  []comp `json:"components"`
	}{BOMFormat: "CycloneDX", SpecVersion: "1.6", Version: 1}
	for _, p := range pkgs {
		name := p.Name
		if i := strings.LastIndexAny(name, "/:"); i >= 0 && !strings.HasPrefix(p.PURL, "pkg:golang/") && !strings.HasPrefix(p.PURL, "pkg:npm/") {
			name = name[i+1:]
		}
		if strings.HasPrefix(p.PURL, "pkg:npm/@") {
			name = p.Name[strings.IndexByte(p.Name, '/')+1:]
		}
		doc.Components = append(doc.Components, comp{"library", name, p.Version, p.PURL})
	}
	data, _ := json.Marshal(doc)
	return data
}
