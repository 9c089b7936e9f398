package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/sbom"
	"github.com/vetted-dev/vetted/scan/vex"
)

// scanFlags are vetted scan's flags.
type scanFlags struct {
	dbDir, format, failOn        string
	vexFiles                     []string
	digest, prodName, prodVer    string
	allowNotAssessed, strictRecs bool
}

func newScanCmd(e *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan SBOM",
		Short: "scan an SBOM against the OSV mirror",
		Long: `Scan an SBOM (SPDX 2.2/2.3 JSON or CycloneDX 1.2–1.6 JSON, whatever the file is called)
against the offline OSV mirror in --osv-db (kept by "vetted osv sync", or any directory in the
osv.dev bulk layout DIR/<Ecosystem>/all.zip or osv-scanner's DIR/osv-scalibr/<Ecosystem>/all.zip).

Packages whose ecosystem the mirror does not cover are reported as not assessed; with --fail-on
they fail the check unless --allow-not-assessed-unsafe. Findings of unknown severity fail every
threshold. VEX statements (OpenVEX, --vex) suppress findings for the product named by
--product-digest or --product-name/--product-version; suppressed findings stay in the report.

--format json writes the report documented in docs/scan-report.md; sarif writes SARIF 2.1.0.
Exit codes: 0 ok, 1 --fail-on tripped (or the mirror is unreadable), 2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd.Context(), e, &f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dbDir, "osv-db", "", "OSV mirror directory (default $VETTED_OSV_DB)")
	fl.StringVar(&f.format, "format", "table", "output format: table, json or sarif")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding is at or above this severity: low, medium, high, critical")
	fl.StringArrayVar(&f.vexFiles, "vex", nil, "OpenVEX document to apply (repeatable)")
	fl.StringVar(&f.digest, "product-digest", "", "image digest (sha256:…) VEX statements must name")
	fl.StringVar(&f.prodName, "product-name", "", "server name VEX statements may name instead")
	fl.StringVar(&f.prodVer, "product-version", "", "server version, with --product-name")
	fl.BoolVar(&f.allowNotAssessed, "allow-not-assessed-unsafe", false, "do not fail on packages the mirror cannot assess")
	fl.BoolVar(&f.strictRecs, "strict-records", false, "fail when a mirror record is invalid instead of skipping it")
	return cmd
}

// inputs checks the flags and reads the VEX documents.
func (f *scanFlags) inputs(e *env) (*report.Policy, []vex.Statement, *vex.Product, error) {
	if f.dbDir == "" {
		f.dbDir = e.getenv("VETTED_OSV_DB")
	}
	if f.dbDir == "" {
		return nil, nil, nil, usageErrorf("scan: --osv-db is required (or set VETTED_OSV_DB)")
	}
	switch f.format {
	case "table", "json", "sarif":
	default:
		return nil, nil, nil, usageErrorf("scan: --format must be table, json or sarif, got %q", f.format)
	}
	var policy *report.Policy
	if f.failOn != "" {
		l, ok := match.ParseLevel(f.failOn)
		if !ok {
			return nil, nil, nil, usageErrorf("scan: --fail-on must be low, medium, high or critical, got %q", f.failOn)
		}
		policy = &report.Policy{FailOn: l, AllowNotAssessedUnsafe: f.allowNotAssessed}
	}
	var stmts []vex.Statement
	for _, name := range f.vexFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, nil, usageErrorf("scan: --vex: %v", err)
		}
		s, err := vex.Parse(data)
		if err != nil {
			return nil, nil, nil, usageErrorf("scan: --vex %s: %v", name, err)
		}
		stmts = append(stmts, s...)
	}
	var product *vex.Product
	if f.digest != "" || f.prodName != "" {
		product = &vex.Product{Digest: f.digest, Name: f.prodName, Version: f.prodVer}
	}
	if len(stmts) > 0 && product == nil {
		return nil, nil, nil, usageErrorf("scan: --vex needs the product it applies to: --product-digest or --product-name")
	}
	return policy, stmts, product, nil
}

func runScan(ctx context.Context, e *env, fl *scanFlags, path string) error {
	policy, stmts, product, err := fl.inputs(e)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return usageErrorf("scan: %v", err)
	}
	defer f.Close()
	var opts []match.Option
	if fl.strictRecs {
		opts = append(opts, match.WithStrictRecords())
	}
	idx, err := scan.OpenIndex(ctx, fl.dbDir, opts...)
	if errors.Is(err, osv.ErrNoMirror) {
		return usageErrorf("scan: --osv-db %s: %v", fl.dbDir, err)
	}
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	sc, err := scan.NewScanner(idx)
	if err != nil {
		return err
	}
	rep, _, err := sc.Scan(ctx, f, scan.Request{
		Source: filepath.Base(path), Product: product, VEX: vex.NewSet(stmts...), Policy: policy,
	})
	if err != nil {
		if errors.Is(err, sbom.ErrNotSBOM) || errors.Is(err, sbom.ErrMalformed) || errors.Is(err, sbom.ErrNoPackages) ||
			errors.Is(err, sbom.ErrTooLarge) || errors.Is(err, sbom.ErrUnsupportedVersion) {
			return usageErrorf("scan: %s: %v", path, err)
		}
		return fmt.Errorf("scan: %w", err)
	}
	switch fl.format {
	case "json":
		err = rep.WriteJSON(e.stdout)
	case "sarif":
		err = rep.WriteSARIF(e.stdout, filepath.ToSlash(path), "")
	default:
		err = rep.WriteTable(e.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Policy != nil && rep.Policy.Failed {
		return checkFailed(fmt.Errorf("scan: policy failed: %s", joinReasons(rep.Policy.Reasons)))
	}
	return nil
}

func joinReasons(r []string) string {
	s := ""
	for i, x := range r {
		if i > 0 {
			s += "; "
		}
		s += x
	}
	return s
}
