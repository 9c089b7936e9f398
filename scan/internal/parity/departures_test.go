package parity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
)

// Each departure of osv-scanner's local matcher from the OSV schema, shown on our own records:
// what osv-scanner v2.6.0 reports (asserted, so that a fixed osv-scanner shows up here) and
// the answer the schema gives, which Vetted must report.
func TestDepartures(t *testing.T) {
	rec := func(id, eco, name string, affected map[string]any) osvtest.Record {
		a := map[string]any{"package": map[string]any{"ecosystem": eco, "name": name}}
		for k, v := range affected {
			a[k] = v
		}
		data, _ := json.Marshal(map[string]any{"id": id, "modified": "2024-01-01T00:00:00Z", "affected": []any{a}})
		return osvtest.Record{Name: id + ".json", Data: data}
	}
	ranges := func(rs ...map[string]any) map[string]any { return map[string]any{"ranges": rs} }
	rng := func(typ string, events ...map[string]string) map[string]any {
		return map[string]any{"type": typ, "repo": "https://example.com/r", "events": events}
	}
	ev := func(k, v string) map[string]string { return map[string]string{k: v} }

	tests := []struct {
		name        string
		records     map[string][]osvtest.Record
		purls       []string
		osvScanner  string // findings osv-scanner reports ("" = none), or "panic"
		vetted      string // the schema's answer
		notAssessed string // ecosystems Vetted reports as not assessed
	}{
		{
			name: "stops at the first range that is neither ECOSYSTEM nor SEMVER",
			records: map[string][]osvtest.Record{"PyPI": {rec("X-GIT-FIRST", "PyPI", "flask", ranges(
				rng("GIT", ev("introduced", "0"), ev("fixed", "abcdef")),
				rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "2.0.0"))))}},
			purls:  []string{"pkg:pypi/flask@1.5.0"},
			vetted: "flask@1.5.0 X-GIT-FIRST",
		},
		{
			name: "ignores limit",
			records: map[string][]osvtest.Record{"npm": {rec("X-LIMIT", "npm", "lim", ranges(
				rng("ECOSYSTEM", ev("introduced", "0"), ev("limit", "2.0.0"))))}},
			purls:      []string{"pkg:npm/lim@3.0.0", "pkg:npm/lim@1.0.0"},
			osvScanner: "lim@1.0.0 X-LIMIT,lim@3.0.0 X-LIMIT",
			vetted:     "lim@1.0.0 X-LIMIT",
		},
		{
			name: "compares versions lists as exact strings",
			records: map[string][]osvtest.Record{"PyPI": {rec("X-VERSIONS", "PyPI", "requests",
				map[string]any{"versions": []string{"2.0", "2.1"}})}},
			purls:      []string{"pkg:pypi/requests@2.0.0", "pkg:pypi/requests@2.1"},
			osvScanner: "requests@2.1 X-VERSIONS",
			vetted:     "requests@2.0.0 X-VERSIONS,requests@2.1 X-VERSIONS",
		},
		{
			name: "stops matching the remaining packages after an ecosystem with no database",
			records: map[string][]osvtest.Record{"npm": {rec("X-NPM", "npm", "zzz", ranges(
				rng("ECOSYSTEM", ev("introduced", "0"))))}},
			purls:       []string{"pkg:apk/alpine/aaa@1.0-r0?distro=alpine-3.20.1", "pkg:npm/zzz@1.0.0"},
			vetted:      "zzz@1.0.0 X-NPM",
			notAssessed: "Alpine:v3.20",
		},
		{
			name: "panics on an ecosystem it cannot order",
			records: map[string][]osvtest.Record{"opam": {rec("X-OPAM", "opam", "lwt", ranges(
				rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "5.0.0"))))}},
			purls:       []string{"pkg:opam/lwt@4.0.0"},
			osvScanner:  "panic",
			notAssessed: "opam",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			osvtest.WriteMirror(t, dir, "osv-scalibr", tc.records)
			sbomPath := filepath.Join(t.TempDir(), "case.cdx.json")
			var comps []map[string]string
			for _, p := range tc.purls {
				comps = append(comps, map[string]string{"type": "library", "name": p, "purl": p})
			}
			// Names as osv-scalibr's CycloneDX reader takes them: the component name, then the purl.
			for i, p := range tc.purls {
				name := p[strings.LastIndexAny(p, "/")+1:]
				name = name[:strings.IndexByte(name, '@')]
				comps[i]["name"] = name
			}
			data, _ := json.Marshal(map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps})
			if err := os.WriteFile(sbomPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := oracle(t, sbomPath, dir)
			switch {
			case tc.osvScanner == "panic":
				if err == nil || !strings.Contains(err.Error(), "panicked") {
					t.Errorf("osv-scanner did not panic (err %v, findings %v); revisit this departure", err, got)
				}
			case err != nil:
				t.Fatalf("oracle: %v", err)
			case join(got) != tc.osvScanner:
				t.Errorf("osv-scanner reports %q, documented %q; revisit this departure", join(got), tc.osvScanner)
			}

			snap, err := osv.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := match.Build(t.Context(), snap, match.WithStrictRecords())
			if err != nil {
				t.Fatal(err)
			}
			mine, res := vetted(t, idx, sbomPath)
			if join(mine) != tc.vetted {
				t.Errorf("Vetted reports %q, the schema says %q", join(mine), tc.vetted)
			}
			var na []string
			for _, n := range res.NotAssessed {
				na = append(na, n.Package.Ecosystem)
			}
			if strings.Join(na, ",") != tc.notAssessed {
				t.Errorf("not assessed %v, want %q", res.NotAssessed, tc.notAssessed)
			}
		})
	}
}

func join(set map[finding]bool) string {
	var out []string
	for f := range set {
		out = append(out, f.String())
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
