package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/trustroot"
	"github.com/vetted-dev/vetted/internal/netguard"
)

// defaultTUFMirror is the Sigstore public-good TUF repository.
const defaultTUFMirror = "https://tuf-repo-cdn.sigstore.dev"

func newTrustCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "refresh and inspect the Sigstore trusted root",
	}
	cmd.AddCommand(newTrustRefreshCmd(e), newTrustShowCmd(e))
	return cmd
}

// trustSummary is what "vetted trust refresh|show --json" prints.
type trustSummary struct {
	File                   string     `json:"file"`
	Source                 string     `json:"source"`
	SHA256                 string     `json:"sha256"`
	Size                   int        `json:"size"`
	CertificateAuthorities int        `json:"certificateAuthorities"`
	TransparencyLogs       int        `json:"transparencyLogs"`
	CTLogs                 int        `json:"ctLogs"`
	TimestampAuthorities   int        `json:"timestampAuthorities"`
	NewestValidityStart    *time.Time `json:"newestValidityStart,omitempty"`
}

func newTrustRefreshCmd(e *env) *cobra.Command {
	var (
		out, mirror, tufRoot string
		asJSON               bool
	)
	cmd := &cobra.Command{
		Use:   "refresh -o FILE",
		Short: "fetch the Sigstore public-good trusted root over TUF and write it to FILE",
		Long: `Fetch trusted_root.json from the Sigstore TUF repository (or --mirror, a mirror with the same
layout), verifying the TUF metadata chain from the TUF root embedded in sigstore-go (or
--tuf-root FILE), check that it parses as a trusted root, and write it to FILE atomically
(mode 0644). Point a policy's keyless "trustedRoot": {"path": FILE} at it. On any failure FILE
is left as it was and the command exits 1.

--json prints {file, source, sha256, size, certificateAuthorities, transparencyLogs, ctLogs,
timestampAuthorities, newestValidityStart}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("trust refresh: -o FILE is required")
			}
			if mirror == "" {
				mirror = defaultTUFMirror
			}
			if u, err := url.Parse(mirror); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return usageErrorf("trust refresh: --mirror %q: want an http(s) URL", mirror)
			}
			if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
				return usageErrorf("trust refresh: -o %s: directory %s does not exist", out, filepath.Dir(out))
			}
			opts := trustroot.FetchOptions{MirrorURL: mirror}
			if tufRoot != "" {
				b, err := os.ReadFile(tufRoot)
				if err != nil {
					return usageErrorf("trust refresh: --tuf-root: %v", err)
				}
				opts.Root = b
			}
			g, err := cliGuard(e, "", nil, []string{mirror}, netguard.MaxResponseBytes(64<<20), netguard.Timeout(2*time.Minute))
			if err != nil {
				return usageErrorf("trust refresh: %v", err)
			}
			opts.Transport = g.RoundTripper()
			data, tr, err := trustroot.FetchPublicGoodJSON(opts)
			if err != nil {
				return checkFailed(fmt.Errorf("trust refresh: %w (%s is unchanged)", err, out))
			}
			if err := writeFileAtomic(out, data, 0o644); err != nil {
				return checkFailed(fmt.Errorf("trust refresh: %w (%s is unchanged)", err, out))
			}
			return printTrustSummary(e, summarizeTrust(out, mirror, data, tr), asJSON, "wrote")
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&out, "output", "o", "", "file to write the trusted root to (required)")
	fl.StringVar(&mirror, "mirror", "", "TUF repository base URL (default "+defaultTUFMirror+")")
	fl.StringVar(&tufRoot, "tuf-root", "", "TUF root.json to start from (default: the Sigstore TUF root embedded in sigstore-go)")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func newTrustShowCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [FILE]",
		Short: "summarize a trusted_root.json, or the public-good root shipped in vetted",
		Long: `Summarize a trusted_root.json FILE (or, without FILE, the Sigstore public-good trusted root
embedded in vetted): the number of certificate authorities, transparency logs, CT logs and
timestamp authorities, and the newest validity start among them. A FILE that does not parse
as a trusted root exits 1. --json prints the same object as "vetted trust refresh --json".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				tr, err := trustroot.PublicGood()
				if err != nil {
					return checkFailed(fmt.Errorf("trust show: embedded public-good root: %w", err))
				}
				return printTrustSummary(e, summarizeTrust("", "embedded public-good", trustroot.PublicGoodJSON(), tr), asJSON, "")
			}
			name := args[0]
			if _, err := os.Stat(name); err != nil {
				return usageErrorf("trust show: %v", err)
			}
			tr, err := trustroot.FromFile(name)
			if err != nil {
				return checkFailed(fmt.Errorf("trust show: %w", err))
			}
			data, err := os.ReadFile(name)
			if err != nil {
				return checkFailed(fmt.Errorf("trust show: %w", err))
			}
			return printTrustSummary(e, summarizeTrust(name, "file", data, tr), asJSON, "")
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func summarizeTrust(file, source string, data []byte, tr *root.TrustedRoot) trustSummary {
	sum := sha256.Sum256(data)
	s := trustSummary{
		File:                   file,
		Source:                 source,
		SHA256:                 hex.EncodeToString(sum[:]),
		Size:                   len(data),
		CertificateAuthorities: len(tr.FulcioCertificateAuthorities()),
		TransparencyLogs:       len(tr.RekorLogs()),
		CTLogs:                 len(tr.CTLogs()),
		TimestampAuthorities:   len(tr.TimestampingAuthorities()),
	}
	var newest time.Time
	see := func(t time.Time) {
		if t.After(newest) {
			newest = t
		}
	}
	for _, ca := range tr.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok {
			see(f.ValidityPeriodStart)
		}
	}
	for _, l := range tr.RekorLogs() {
		see(l.ValidityPeriodStart)
	}
	for _, l := range tr.CTLogs() {
		see(l.ValidityPeriodStart)
	}
	for _, ta := range tr.TimestampingAuthorities() {
		if tsa, ok := ta.(*root.SigstoreTimestampingAuthority); ok {
			see(tsa.ValidityPeriodStart)
		}
	}
	if !newest.IsZero() {
		n := newest.UTC()
		s.NewestValidityStart = &n
	}
	return s
}

func printTrustSummary(e *env, s trustSummary, asJSON bool, verb string) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	switch {
	case verb != "":
		fmt.Fprintf(e.stdout, "%s %s (from %s)\n", verb, s.File, s.Source)
	case s.File != "":
		fmt.Fprintf(e.stdout, "trusted root %s\n", s.File)
	default:
		fmt.Fprintf(e.stdout, "trusted root: %s\n", s.Source)
	}
	newest := "-"
	if s.NewestValidityStart != nil {
		newest = s.NewestValidityStart.Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sha256\t%s\n", s.SHA256)
	fmt.Fprintf(tw, "bytes\t%d\n", s.Size)
	fmt.Fprintf(tw, "certificate authorities\t%d\n", s.CertificateAuthorities)
	fmt.Fprintf(tw, "transparency logs\t%d\n", s.TransparencyLogs)
	fmt.Fprintf(tw, "CT logs\t%d\n", s.CTLogs)
	fmt.Fprintf(tw, "timestamp authorities\t%d\n", s.TimestampAuthorities)
	fmt.Fprintf(tw, "newest validity start\t%s\n", newest)
	return tw.Flush()
}

// writeFileAtomic writes data to a temporary file next to name and renames it over name, so
// that readers see the old file or the new one, never a partial one.
func writeFileAtomic(name string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
