package match_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/scan/internal/osvtest"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// rec builds an OSV record as JSON.
func rec(id string, fields map[string]any) osvtest.Record {
	m := map[string]any{"id": id, "modified": "2024-01-01T00:00:00Z"}
	for k, v := range fields {
		m[k] = v
	}
	data, _ := json.Marshal(m)
	return osvtest.Record{Name: id + ".json", Data: data}
}

func affected(eco, name string, ranges []any, versions ...string) map[string]any {
	a := map[string]any{"package": map[string]any{"ecosystem": eco, "name": name}}
	if ranges != nil {
		a["ranges"] = ranges
	}
	if versions != nil {
		a["versions"] = versions
	}
	return a
}

func rng(typ string, events ...map[string]string) map[string]any {
	return map[string]any{"type": typ, "events": events}
}

func ev(kind, v string) map[string]string { return map[string]string{kind: v} }

func buildIndex(t *testing.T, byEco map[string][]osvtest.Record) *match.Index {
	t.Helper()
	dir := t.TempDir()
	osvtest.WriteMirror(t, dir, "", byEco)
	snap, err := osv.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := match.Build(context.Background(), snap, match.WithStrictRecords())
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func pkg(purl string) sbom.Package { return sbom.FromPURL(purl, "", "") }

func ids(fs []match.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Vulnerability.ID)
	}
	return strings.Join(out, ",")
}

func TestMatchSemantics(t *testing.T) {
	records := map[string][]osvtest.Record{
		"npm": {
			rec("R-INTRO-FIXED", map[string]any{"affected": []any{affected("npm", "a", []any{rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "1.2.0"))})}}),
			rec("R-LAST", map[string]any{"affected": []any{affected("npm", "b", []any{rng("SEMVER", ev("introduced", "1.0.0"), ev("last_affected", "1.4.0"))})}}),
			rec("R-LIMIT", map[string]any{"affected": []any{affected("npm", "c", []any{rng("ECOSYSTEM", ev("introduced", "0"), ev("limit", "2.0.0"))})}}),
			rec("R-TWO-INTERVALS", map[string]any{"affected": []any{affected("npm", "d", []any{rng("ECOSYSTEM", ev("introduced", "1.0.0"), ev("fixed", "1.1.0"), ev("introduced", "2.0.0"), ev("fixed", "2.3.0"))})}}),
			rec("R-UNSORTED", map[string]any{"affected": []any{affected("npm", "e", []any{rng("ECOSYSTEM", ev("fixed", "3.0.0"), ev("introduced", "2.0.0"))})}}),
			rec("R-WITHDRAWN", map[string]any{"withdrawn": "2024-02-01T00:00:00Z", "affected": []any{affected("npm", "a", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
			rec("GHSA-aaaa-bbbb-cccc", map[string]any{"aliases": []string{"CVE-2024-1"}, "affected": []any{affected("npm", "f", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
			rec("CVE-2024-1", map[string]any{"affected": []any{affected("npm", "f", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
			rec("R-GIT-FIRST", map[string]any{"affected": []any{affected("npm", "g", []any{rng("GIT", ev("introduced", "abc")), rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "5.0.0"))})}}),
			rec("R-NO-RANGES", map[string]any{"affected": []any{affected("npm", "h", nil)}}),
		},
		"PyPI": {
			rec("PYSEC-VERSIONS", map[string]any{"affected": []any{affected("PyPI", "Flask_Thing", []any{rng("GIT", ev("introduced", "0"), ev("fixed", "deadbeef"))}, "1.0", "2.0rc1")}}),
		},
		"Go": {
			rec("GO-PSEUDO", map[string]any{"affected": []any{affected("Go", "golang.org/x/net", []any{rng("SEMVER", ev("introduced", "0"), ev("fixed", "0.7.0"))})}}),
			rec("GO-INCOMPAT", map[string]any{"affected": []any{affected("Go", "github.com/docker/docker", []any{rng("SEMVER", ev("introduced", "0"), ev("fixed", "28.0.5+incompatible"))})}}),
		},
		"Maven": {
			rec("MVN-JETTY", map[string]any{"affected": []any{affected("Maven", "org.eclipse.jetty:jetty-server", []any{rng("ECOSYSTEM", ev("introduced", "9.4.0"), ev("fixed", "9.4.41.v20210516"))})}}),
		},
	}
	idx := buildIndex(t, records)
	tests := []struct {
		name, purl string
		want       string // comma-separated finding ids
		fixed      string
	}{
		{"introduced 0, below fixed", "pkg:npm/a@1.1.9", "R-INTRO-FIXED", "1.2.0"},
		{"at fixed is not affected", "pkg:npm/a@1.2.0", "", ""},
		{"withdrawn record ignored", "pkg:npm/a@9.9.9", "", ""},
		{"last_affected inclusive", "pkg:npm/b@1.4.0", "R-LAST", ""},
		{"above last_affected", "pkg:npm/b@1.4.1", "", ""},
		{"below introduced", "pkg:npm/b@0.9.0", "", ""},
		{"limit bounds the range", "pkg:npm/c@1.9.9", "R-LIMIT", ""},
		{"at limit is not affected", "pkg:npm/c@2.0.0", "", ""},
		{"between two intervals", "pkg:npm/d@1.5.0", "", ""},
		{"second interval", "pkg:npm/d@2.2.0", "R-TWO-INTERVALS", "2.3.0"},
		{"events sorted before evaluation", "pkg:npm/e@2.5.0", "R-UNSORTED", "3.0.0"},
		{"aliases merged into one finding", "pkg:npm/f@1.0.0", "GHSA-aaaa-bbbb-cccc", ""},
		{"a GIT range first does not stop the ECOSYSTEM range", "pkg:npm/g@4.0.0", "R-GIT-FIRST", "5.0.0"},
		{"no ranges and no versions affects nothing", "pkg:npm/h@1.0.0", "", ""},
		{"versions list compared as PEP 440 versions, names normalised", "pkg:pypi/flask-thing@1.0.0", "PYSEC-VERSIONS", ""},
		{"versions list pre-release", "pkg:pypi/flask.thing@2.0.0rc1", "PYSEC-VERSIONS", ""},
		{"versions list miss", "pkg:pypi/flask-thing@1.0.1", "", ""},
		{"Go pseudo-version with v prefix", "pkg:golang/golang.org/x/net@v0.0.0-20200707034311-ab3426394381", "GO-PSEUDO", "0.7.0"},
		{"Go +incompatible", "pkg:golang/github.com/docker/docker@v28.0.4%2Bincompatible", "GO-INCOMPAT", "28.0.5+incompatible"},
		{"Maven jetty version order", "pkg:maven/org.eclipse.jetty/jetty-server@9.4.18.v20190429", "MVN-JETTY", "9.4.41.v20210516"},
		{"Maven above fix", "pkg:maven/org.eclipse.jetty/jetty-server@9.4.41.v20210516", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, reason := idx.MatchPackage(pkg(tc.purl))
			if reason != "" {
				t.Fatalf("not assessed: %s", reason)
			}
			if got := ids(fs); got != tc.want {
				t.Fatalf("findings = %q, want %q", got, tc.want)
			}
			if len(fs) == 1 {
				if got := strings.Join(fs[0].Fixed, ","); got != tc.fixed {
					t.Errorf("fixed = %q, want %q", got, tc.fixed)
				}
			}
		})
	}
	t.Run("alias group lists both records", func(t *testing.T) {
		fs, _ := idx.MatchPackage(pkg("pkg:npm/f@1.0.0"))
		if len(fs) != 1 || strings.Join(fs[0].Vulnerability.Records, ",") != "CVE-2024-1,GHSA-aaaa-bbbb-cccc" ||
			strings.Join(fs[0].Vulnerability.Aliases, ",") != "CVE-2024-1" {
			t.Fatalf("got %+v", fs)
		}
	})
	if invalid, withdrawn := idx.Skipped(); invalid != 0 || withdrawn != 1 {
		t.Errorf("skipped invalid=%d withdrawn=%d, want 0 and 1", invalid, withdrawn)
	}
}

func TestNotAssessed(t *testing.T) {
	idx := buildIndex(t, map[string][]osvtest.Record{
		"npm":  {rec("R1", map[string]any{"affected": []any{affected("npm", "minimist", []any{rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "0.2.1"))})}})},
		"PyPI": {rec("R2", map[string]any{"affected": []any{affected("PyPI", "x", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}})},
	})
	res := idx.Match([]sbom.Package{
		pkg("pkg:apk/alpine/zlib@1.2.12-r1?distro=alpine-3.22.0"),
		pkg("pkg:npm/minimist@0.0.8"),
		{Name: "thing", Version: "1.0", Reason: "no package URL (purl)"},
		pkg("pkg:cocoapods/AFNetworking@4.0.1"),
		pkg("pkg:npm/nover"),
	})
	if got := ids(res.Findings); got != "R1" {
		t.Errorf("findings = %q, want R1: a package after an unmirrored ecosystem is still matched", got)
	}
	want := map[string]string{
		"zlib":         "ecosystem Alpine:v3.22 is not in the OSV mirror",
		"thing":        "no package URL (purl)",
		"AFNetworking": "no OSV ecosystem for package type cocoapods",
		"nover":        "no version",
	}
	if len(res.NotAssessed) != len(want) {
		t.Fatalf("not assessed = %+v", res.NotAssessed)
	}
	for _, n := range res.NotAssessed {
		if want[n.Package.Name] != n.Reason {
			t.Errorf("%s: reason %q, want %q", n.Package.Name, n.Reason, want[n.Package.Name])
		}
	}
}

func TestSeverity(t *testing.T) {
	idx := buildIndex(t, map[string][]osvtest.Record{"npm": {
		rec("V3", map[string]any{"severity": []any{map[string]string{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
			"affected": []any{affected("npm", "p", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
		rec("V4", map[string]any{"severity": []any{map[string]string{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}},
			"affected": []any{affected("npm", "q", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
		rec("DB", map[string]any{"database_specific": map[string]string{"severity": "MODERATE"},
			"affected": []any{affected("npm", "r", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
		rec("NONE", map[string]any{"affected": []any{affected("npm", "s", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
	}})
	tests := []struct {
		purl   string
		level  match.Level
		score  float64
		source string
	}{
		{"pkg:npm/p@1.0.0", match.LevelCritical, 9.8, "cvss_v3"},
		{"pkg:npm/q@1.0.0", match.LevelMedium, 6.9, "cvss_v4"},
		{"pkg:npm/r@1.0.0", match.LevelMedium, 0, "database_specific"},
		{"pkg:npm/s@1.0.0", match.LevelUnknown, 0, ""},
	}
	for _, tc := range tests {
		fs, _ := idx.MatchPackage(pkg(tc.purl))
		if len(fs) != 1 {
			t.Fatalf("%s: %d findings", tc.purl, len(fs))
		}
		s := fs[0].Vulnerability.Severity
		if s.Level != tc.level || s.Score != tc.score || s.Source != tc.source {
			t.Errorf("%s: severity %+v, want %s %.1f %s", tc.purl, s, tc.level, tc.score, tc.source)
		}
	}
}

func TestDiffRescan(t *testing.T) {
	base := []osvtest.Record{
		rec("KEEP", map[string]any{"affected": []any{affected("npm", "a", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
		rec("GONE", map[string]any{"affected": []any{affected("npm", "b", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
		rec("FIXED-LATER", map[string]any{"affected": []any{affected("npm", "c", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
	}
	oldIdx := buildIndex(t, map[string][]osvtest.Record{"npm": base})
	next := []osvtest.Record{
		base[0],
		rec("FIXED-LATER", map[string]any{"modified": "2024-03-01T00:00:00Z", "affected": []any{affected("npm", "c", []any{rng("ECOSYSTEM", ev("introduced", "0"), ev("fixed", "1.0.0"))})}}),
		rec("NEW", map[string]any{"affected": []any{affected("npm", "d", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}}),
	}
	newIdx := buildIndex(t, map[string][]osvtest.Record{"npm": next, "PyPI": {rec("PY", map[string]any{"affected": []any{affected("PyPI", "z", []any{rng("ECOSYSTEM", ev("introduced", "0"))})}})}})
	d := match.Diff(oldIdx, newIdx)
	if d.Changed != 4 {
		t.Errorf("changed records = %d, want 4 (GONE, FIXED-LATER, NEW, PY)", d.Changed)
	}
	sets := map[string][]sbom.Package{
		"s1": {pkg("pkg:npm/a@1.0.0"), pkg("pkg:npm/b@1.0.0")},
		"s2": {pkg("pkg:npm/c@1.5.0"), pkg("pkg:npm/d@1.0.0")},
		"s3": {pkg("pkg:npm/c@0.5.0"), pkg("pkg:pypi/z@1.0")},
		"s4": {pkg("pkg:npm/a@2.0.0")},
	}
	got := map[string]string{}
	err := d.Rescan(context.Background(), func(yield func(string, []sbom.Package) bool) {
		for _, id := range []string{"s1", "s2", "s3", "s4"} {
			if !yield(id, sets[id]) {
				return
			}
		}
	}, func(c match.Change) error {
		got[c.ID] = fmt.Sprintf("new=%s resolved=%s newlyNA=%d noLongerNA=%d", ids(c.New), ids(c.Resolved), len(c.NewlyNotAssessed), len(c.NoLongerNotAssessed))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"s1": "new= resolved=GONE newlyNA=0 noLongerNA=0",
		"s2": "new=NEW resolved=FIXED-LATER newlyNA=0 noLongerNA=0",
		"s3": "new=PY resolved= newlyNA=0 noLongerNA=1",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %s, want %s", id, got[id], w)
		}
	}
	if _, ok := got["s4"]; ok {
		t.Errorf("s4 changed (%s) but nothing touching it did", got["s4"])
	}
}
