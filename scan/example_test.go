package scan_test

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/report"
)

// writeMirror lays out a one-record mirror in the osv.dev bulk layout: DIR/npm/all.zip.
func writeMirror(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "npm"), 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "npm", "all.zip"))
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	w, err := zw.Create("GHSA-xvch-5gv4-984h.json")
	if err != nil {
		return err
	}
	fmt.Fprint(w, `{"id":"GHSA-xvch-5gv4-984h","modified":"2023-02-27T14:47:14Z","aliases":["CVE-2021-44906"],
	  "summary":"Prototype Pollution in minimist",
	  "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
	  "affected":[{"package":{"ecosystem":"npm","name":"minimist"},
	    "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0.2.4"}]}]}]}`)
	return zw.Close()
}

// Scan an SBOM against a mirror directory and decide with a severity policy.
func Example() {
	dir, _ := os.MkdirTemp("", "osv")
	defer os.RemoveAll(dir)
	if err := writeMirror(dir); err != nil {
		panic(err)
	}
	ctx := context.Background()
	idx, err := scan.OpenIndex(ctx, dir) // the current snapshot, indexed once, shared by scans
	if err != nil {
		panic(err)
	}
	sc, _ := scan.NewScanner(idx, scan.WithClock(func() time.Time { return time.Unix(0, 0) }))
	sbomJSON := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
	  {"type":"library","name":"minimist","version":"0.0.8","purl":"pkg:npm/minimist@0.0.8"},
	  {"type":"library","name":"zlib","version":"1.2.12-r1","purl":"pkg:apk/alpine/zlib@1.2.12-r1?distro=alpine-3.22.0"}]}`
	rep, doc, err := sc.Scan(ctx, strings.NewReader(sbomJSON), scan.Request{
		Policy: &report.Policy{FailOn: match.LevelHigh},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Package.Name, f.Package.Version, f.Vulnerability.ID, f.Vulnerability.Aliases, f.Vulnerability.Severity, f.Vulnerability.Score, "fixed in", f.Fixed)
	}
	for _, n := range rep.NotAssessed {
		fmt.Println("not assessed:", n.Name, n.Reason)
	}
	fmt.Println("failed:", rep.Policy.Failed)
	fmt.Println("stored packages:", len(doc.Packages))
	// Output:
	// minimist 0.0.8 GHSA-xvch-5gv4-984h [CVE-2021-44906] critical 9.8 fixed in [0.2.4]
	// not assessed: zlib ecosystem Alpine:v3.22 is not in the OSV mirror
	// failed: true
	// stored packages: 2
}
