package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with the registry's audit chain",
	}
	cmd.AddCommand(newAuditVerifyCmd(e))
	return cmd
}

// auditDBFile is the SQLite file `vetted serve` keeps in its data directory.
const auditDBFile = "vetted.db"

func newAuditVerifyCmd(e *env) *cobra.Command {
	var (
		dataDir, database, registryURL, token, head string
		asJSON                                      bool
	)
	cmd := &cobra.Command{
		Use:   "verify (--data-dir DIR | --database postgres://… | --registry URL)",
		Short: "Check that no audit event was changed, removed or reordered",
		Long: `Verify walks the audit chain in sequence order and recomputes each event's hash and its link
to the one before. It names the first event where the chain breaks and how: "changed" (its
content no longer matches its hash), "removed or reordered" (its link does not match the event
before it, or a sequence number is missing), "bad sequence", "truncated" (events were cut off
the end of the chain).

Read from the data directory of 'vetted serve' (--data-dir, its SQLite file) or from
PostgreSQL (--database), it also compares the chain's end with the head row every append
updates (so a truncated chain is detected without --head), and cross-checks every stored
version with the chain: its content digest, the digest of the document it serves, its pinned
packages and its status must be what the chain's events recorded. Each disagreement is named:
"version tampered", "packages tampered", "status mismatch", "no audit event" (a version no
event created), "version missing" (an event created it, no row holds it).

From a running registry (--registry, with a reviewer's token from --token or $VETTED_TOKEN)
only the chain is checked; pass --head with a head hash noted earlier (printed by every
successful run) to detect truncation there.

--json prints {"ok":bool,"events":N,"head":"sha256:…","break":{"seq","reason","detail"},
"versions":N,"mismatches":[{"subject","kind","seq","detail"}]}.
Exit status: 0 intact, 1 broken or tampered, 2 bad usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, s := range []string{dataDir, database, registryURL} {
				if s != "" {
					n++
				}
			}
			if n != 1 {
				return usageErrorf("give exactly one of --data-dir, --database, --registry")
			}
			return auditVerifyFrom(cmd.Context(), e, dataDir, database, registryURL, token, head, asJSON)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory of 'vetted serve' (SQLite)")
	cmd.Flags().StringVar(&database, "database", "", "PostgreSQL connection string")
	cmd.Flags().StringVar(&registryURL, "registry", "", "registry base URL")
	cmd.Flags().StringVar(&token, "token", "", "reviewer token for --registry (default $VETTED_TOKEN)")
	cmd.Flags().StringVar(&head, "head", "", "expected hash of the newest event (detects a truncated chain)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// auditVerifyFrom verifies the chain from the one source given.
func auditVerifyFrom(ctx context.Context, e *env, dataDir, database, registryURL, token, head string, asJSON bool) error {
	switch {
	case dataDir != "":
		s, err := sqlite.Open(ctx, filepath.Join(dataDir, auditDBFile))
		if err != nil {
			return usageErrorf("open the data directory: %v", err)
		}
		defer s.Close()
		return runStoreVerify(ctx, e, s, head, asJSON)
	case database != "":
		s, err := postgres.Open(ctx, database)
		if err != nil {
			return usageErrorf("open the database: %v", err)
		}
		defer s.Close()
		return runStoreVerify(ctx, e, s, head, asJSON)
	}
	if token == "" {
		token = e.getenv("VETTED_TOKEN")
	}
	c, err := newRegClient(registryURL, token)
	if err != nil {
		return err
	}
	page := func(ctx context.Context, after int64) ([]registry.AuditEvent, error) {
		var p struct {
			Events []registry.AuditEvent `json:"events"`
		}
		err := c.getJSON(ctx, "/v0.1/x/dev.vetted/audit?limit=1000&after="+strconv.FormatInt(after, 10), &p)
		return p.Events, err
	}
	return runAuditVerify(ctx, e, page, head, asJSON)
}

type auditResult struct {
	OK     bool                 `json:"ok"`
	Events int64                `json:"events"`
	Head   string               `json:"head,omitempty"`
	Break  *registry.ChainError `json:"break,omitempty"`
	// Versions and Mismatches: the cross-check of the stored versions (store sources only).
	Versions   int                 `json:"versions,omitempty"`
	Mismatches []registry.Mismatch `json:"mismatches,omitempty"`
}

// runStoreVerify verifies the chain of a store against its head row, cross-checks every
// stored version with it, and reports.
func runStoreVerify(ctx context.Context, e *env, src registry.IntegritySource, head string, asJSON bool) error {
	rep, err := registry.VerifyStore(ctx, src, head)
	if err != nil {
		return err
	}
	res := auditResult{OK: rep.OK, Events: rep.Events, Head: rep.Head, Break: rep.Break, Versions: rep.Versions, Mismatches: rep.Mismatches}
	switch {
	case asJSON:
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	case rep.Break != nil:
		fmt.Fprintf(e.stdout, "audit chain BROKEN after %d intact events: %v\n", rep.Events, rep.Break)
	case !rep.OK:
		fmt.Fprintf(e.stdout, "audit chain intact: %d events, head %s\n", rep.Events, rep.Head)
		fmt.Fprintf(e.stdout, "stored versions TAMPERED: %d of %d disagree with the chain\n", len(rep.Mismatches), rep.Versions)
		for _, m := range rep.Mismatches {
			fmt.Fprintf(e.stdout, "  %s\n", m)
		}
	default:
		fmt.Fprintf(e.stdout, "audit chain intact: %d events, head %s; %d stored versions match it\n", rep.Events, rep.Head, rep.Versions)
	}
	if !rep.OK {
		return checkFailedSilently()
	}
	return nil
}

func runAuditVerify(ctx context.Context, e *env, page func(context.Context, int64) ([]registry.AuditEvent, error), head string, asJSON bool) error {
	var v registry.ChainVerifier
	var after int64
	var brk error
	for brk == nil {
		es, err := page(ctx, after)
		if err != nil {
			return fmt.Errorf("read the audit chain: %w", err)
		}
		if len(es) == 0 {
			brk = v.Finish(head)
			break
		}
		for _, ev := range es {
			if brk = v.Next(ev); brk != nil {
				break
			}
		}
		after = es[len(es)-1].Seq
	}
	last, n := v.Head()
	res := auditResult{OK: brk == nil, Events: n}
	if last != nil {
		res.Head = last.Hash
	}
	var ce *registry.ChainError
	if errors.As(brk, &ce) {
		res.Break = ce
	} else if brk != nil {
		return brk
	}
	if asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else if res.OK {
		fmt.Fprintf(e.stdout, "audit chain intact: %d events, head %s\n", n, res.Head)
	} else {
		fmt.Fprintf(e.stdout, "audit chain BROKEN after %d intact events: %v\n", n, brk)
	}
	if !res.OK {
		return checkFailedSilently()
	}
	return nil
}
