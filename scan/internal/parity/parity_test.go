package parity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scanner/v2/pkg/osvscanner"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// finding is the unit of comparison: package, version, OSV record id.
type finding struct{ name, version, id string }

func (f finding) String() string { return f.name + "@" + f.version + " " + f.id }

// oracle runs osv-scanner's DoScan offline against the mirror in dbDir.
func oracle(t testing.TB, sbomPath, dbDir string) (set map[finding]bool, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("osv-scanner panicked: %v", r)
		}
	}()
	actions := osvscanner.ScannerActions{
		LockfilePaths:         []string{sbomPath},
		CompareOffline:        true,
		DownloadDatabases:     false,
		LocalDBPath:           dbDir,
		PluginNetworkDisabled: true,
		ShowAllVulns:          true,
	}
	actions.TransitiveScanning.Disabled = true
	res, err := osvscanner.DoScan(actions)
	if err != nil && !errors.Is(err, osvscanner.ErrVulnerabilitiesFound) {
		return nil, err
	}
	set = map[finding]bool{}
	for _, src := range res.Results {
		for _, p := range src.Packages {
			for _, v := range p.Vulnerabilities {
				set[finding{oracleName(p.Package.Name, p.Package.Inventory), p.Package.Version, v.GetId()}] = true
			}
		}
	}
	return set, nil
}

// oracleName is the package's full name (Maven group:artifact, Go module path) from its purl.
func oracleName(short string, inv *extractor.Package) string {
	if inv == nil || inv.PURL() == nil {
		return short
	}
	return sbom.FromPURL(inv.PURL().String(), short, "").Name
}

func vetted(t testing.TB, idx *match.Index, sbomPath string) (map[finding]bool, *match.Result) {
	t.Helper()
	f, err := os.Open(sbomPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := sbom.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", sbomPath, err)
	}
	res := idx.Match(doc.Packages)
	set := map[finding]bool{}
	for _, fd := range res.Findings {
		for _, id := range fd.Vulnerability.Records {
			set[finding{fd.Package.Name, fd.Package.Version, id}] = true
		}
	}
	return set, res
}

func sharedMirror(t testing.TB) (dbDir string, idx *match.Index) {
	t.Helper()
	dbDir = t.TempDir()
	osvtest.WriteMirror(t, dbDir, "osv-scalibr", osvtest.SharedRecords(t))
	snap, err := osv.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err = match.Build(context.Background(), snap, match.WithStrictRecords())
	if err != nil {
		t.Fatal(err)
	}
	return dbDir, idx
}

// departure is a finding where osv-scanner departs from the OSV schema and Vetted follows it.
type departure struct {
	name string // names the osv-scanner behaviour
	sbom string
	// extra are findings Vetted reports and osv-scanner misses; they are the correct answer.
	extra []finding
	// notAssessed are ecosystems Vetted must report as not assessed for this SBOM.
	notAssessed []string
}

var departures = []departure{
	{
		name:  "versions list compared as exact strings (flask 1.0.0 vs \"1.0\") and GIT range first",
		sbom:  "osv-scanner-locks-requirements.syft.spdx.json",
		extra: []finding{{"flask", "1.0.0", "PYSEC-2023-62"}},
	},
	{
		name:        "stops matching after an ecosystem with no database (Alpine before npm)",
		sbom:        "derived-mixed-apk-npm.cdx.json",
		extra:       []finding{{"minimist", "0.0.8", "GHSA-vh95-rmgr-6w4m"}, {"minimist", "0.0.8", "GHSA-xvch-5gv4-984h"}},
		notAssessed: []string{"Alpine:v3.22"},
	},
	{
		name:        "no database for Alpine is silent",
		sbom:        "osv-scanner-alpine-zlib-16.cdx.json",
		notAssessed: []string{"Alpine:v3.22"},
	},
}

// expectedTotals are the per-SBOM finding counts osv-scanner v2.6.0 gives (shared README),
// except proton-bridge: the README zips each record only under one ecosystem, while osv.dev (and
// this test) puts a record in the archive of every ecosystem it affects. GHSA-qppj-fm5r-hxr3
// (HTTP/2 rapid reset) affects Maven jetty and Go golang.org/x/net, so osv-scanner reports it for
// x/net too: 59 instead of 58, 160 in total instead of 159.
var expectedTotals = map[string]int{
	"cern-lhc-vdm-editor-e564943.cdx.json":          3,
	"juice-shop-v11.1.2.cdx.json":                   18,
	"proton-bridge-v1.6.3.cdx.json":                 59,
	"dropwizard-1.3.15.cdx.json":                    63,
	"github-mcp-server-v0.1.0.syft.cdx.json":        12,
	"github-mcp-server-v0.20.0.syft.spdx.json":      3,
	"mcp-servers-npm.syft.spdx.json":                0,
	"mcp-server-fetch.syft.cdx.json":                0,
	"mcp-server-git.syft.spdx.json":                 0,
	"osv-scanner-locks-requirements.syft.spdx.json": 2,
	"osv-scanner-locks-insecure.syft.cdx.json":      0,
	"osv-scanner-alpine-zlib-16.cdx.json":           0,
	"derived-mixed-apk-npm.cdx.json":                0,
}

func TestParityWithOSVScanner(t *testing.T) {
	dbDir, idx := sharedMirror(t)
	sbomDir := testenv.SharedTestdata(t, "sbom")
	files, _ := filepath.Glob(filepath.Join(sbomDir, "*.json"))
	if len(files) != len(expectedTotals) {
		t.Fatalf("shared SBOMs: %d files, want %d", len(files), len(expectedTotals))
	}
	dep := map[string]departure{}
	for _, d := range departures {
		dep[d.sbom] = d
	}
	total := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, err := oracle(t, path, dbDir)
			if err != nil {
				t.Fatalf("oracle: %v", err)
			}
			if n := len(want); n != expectedTotals[name] {
				t.Errorf("oracle gave %d findings, shared README says %d", n, expectedTotals[name])
			}
			total += len(want)
			got, res := vetted(t, idx, path)
			d := dep[name]
			for _, f := range d.extra {
				if want[f] {
					t.Errorf("departure %q: osv-scanner now reports %v; revisit the departure", d.name, f)
				}
				want[f] = true
			}
			if missing, extra := diff(want, got); len(missing)+len(extra) > 0 {
				t.Errorf("findings differ from osv-scanner (+ named departures)\nmissing: %v\nextra:   %v", missing, extra)
			}
			var na []string
			for _, n := range res.NotAssessed {
				if n.Package.Ecosystem != "" {
					na = append(na, n.Package.Ecosystem)
				}
			}
			if strings.Join(na, ",") != strings.Join(d.notAssessed, ",") {
				t.Errorf("not assessed ecosystems = %v, want %v (%+v)", na, d.notAssessed, res.NotAssessed)
			}
		})
	}
	if total != 160 {
		t.Errorf("oracle total %d findings, want 160 (159 in the shared README + GHSA-qppj-fm5r-hxr3 for x/net)", total)
	}
}

func diff(want, got map[finding]bool) (missing, extra []string) {
	for f := range want {
		if !got[f] {
			missing = append(missing, f.String())
		}
	}
	for f := range got {
		if !want[f] {
			extra = append(extra, f.String())
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}
