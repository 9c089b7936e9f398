package main

import (
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

func newScanCmd(e *env) *cobra.Command {
	var (
		dbDir, format, failOn        string
		vexFiles                     []string
		digest, prodName, prodVer    string
		allowNotAssessed, strictRecs bool
	)
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if dbDir == "" {
				dbDir = e.getenv("VETTED_OSV_DB")
			}
			if dbDir == "" {
				return usageErrorf("scan: --osv-db is required (or set VETTED_OSV_DB)")
			}
			switch format {
			case "table", "json", "sarif":
			default:
				return usageErrorf("scan: --format must be table, json or sarif, got %q", format)
			}
			var policy *report.Policy
			if failOn != "" {
				l, ok := match.ParseLevel(failOn)
				if !ok {
					return usageErrorf("scan: --fail-on must be low, medium, high or critical, got %q", failOn)
				}
				policy = &report.Policy{FailOn: l, AllowNotAssessedUnsafe: allowNotAssessed}
			}
			var stmts []vex.Statement
			for _, f := range vexFiles {
				data, err := os.ReadFile(f)
				if err != nil {
					return usageErrorf("scan: --vex: %v", err)
				}
				s, err := vex.Parse(data)
				if err != nil {
					return usageErrorf("scan: --vex %s: %v", f, err)
				}
				stmts = append(stmts, s...)
			}
			var product *vex.Product
			if digest != "" || prodName != "" {
				product = &vex.Product{Digest: digest, Name: prodName, Version: prodVer}
			}
			if len(stmts) > 0 && product == nil {
				return usageErrorf("scan: --vex needs the product it applies to: --product-digest or --product-name")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usageErrorf("scan: %v", err)
			}
			defer f.Close()

			ctx := cmd.Context()
			var opts []match.Option
			if strictRecs {
				opts = append(opts, match.WithStrictRecords())
			}
			idx, err := scan.OpenIndex(ctx, dbDir, opts...)
			if errors.Is(err, osv.ErrNoMirror) {
				return usageErrorf("scan: --osv-db %s: %v", dbDir, err)
			}
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			sc, err := scan.NewScanner(idx)
			if err != nil {
				return err
			}
			rep, _, err := sc.Scan(ctx, f, scan.Request{
				Source: filepath.Base(args[0]), Product: product, VEX: vex.NewSet(stmts...), Policy: policy,
			})
			if err != nil {
				if errors.Is(err, sbom.ErrNotSBOM) || errors.Is(err, sbom.ErrMalformed) || errors.Is(err, sbom.ErrNoPackages) ||
					errors.Is(err, sbom.ErrTooLarge) || errors.Is(err, sbom.ErrUnsupportedVersion) {
					return usageErrorf("scan: %s: %v", args[0], err)
				}
				return fmt.Errorf("scan: %w", err)
			}
			switch format {
			case "json":
				err = rep.WriteJSON(e.stdout)
			case "sarif":
				err = rep.WriteSARIF(e.stdout, filepath.ToSlash(args[0]), "")
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
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dbDir, "osv-db", "", "OSV mirror directory (default $VETTED_OSV_DB)")
	fl.StringVar(&format, "format", "table", "output format: table, json or sarif")
	fl.StringVar(&failOn, "fail-on", "", "exit 1 when a finding is at or above this severity: low, medium, high, critical")
	fl.StringArrayVar(&vexFiles, "vex", nil, "OpenVEX document to apply (repeatable)")
	fl.StringVar(&digest, "product-digest", "", "image digest (sha256:…) VEX statements must name")
	fl.StringVar(&prodName, "product-name", "", "server name VEX statements may name instead")
	fl.StringVar(&prodVer, "product-version", "", "server version, with --product-name")
	fl.BoolVar(&allowNotAssessed, "allow-not-assessed-unsafe", false, "do not fail on packages the mirror cannot assess")
	fl.BoolVar(&strictRecs, "strict-records", false, "fail when a mirror record is invalid instead of skipping it")
	return cmd
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
