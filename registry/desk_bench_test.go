package registry_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

// benchDesk is a SQLite registry with n published versions, each with two findings, and
// their n publish events in the audit chain.
func benchDesk(b *testing.B, n int) *registry.Desk {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vetted.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	lodash := storetest.Finding{ID: "GHSA-p6mc-m468-83gw", Aliases: []string{"CVE-2020-8203"}, Severity: "high", Package: "lodash", Version: "4.17.15", Fixed: "4.17.19"}
	minimist := storetest.Finding{ID: "GHSA-xvch-5gv4-984h", Aliases: []string{"CVE-2021-44906"}, Severity: "critical", Package: "minimist", Version: "1.2.5", Fixed: "1.2.6"}
	for i := 0; i < n; i++ {
		p := storetest.ReviewPublication(fmt.Sprintf("io.github.acme/s%05d", i), "1.0.0", registry.StatusPublished, i, nil, "", lodash, minimist)
		if _, _, err := st.CommitPublication(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	d, err := registry.NewDesk(st)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// "Which published servers are affected by CVE-…" over 1,000 published versions.
func BenchmarkDeskAffected1k(b *testing.B) {
	d := benchDesk(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		fs, err := d.Findings(ctx, registry.FindingQuery{Vulnerability: "CVE-2020-8203", Statuses: []registry.Status{registry.StatusPublished}})
		if err != nil || len(fs) != 1000 {
			b.Fatal(len(fs), err)
		}
	}
}

// Verifying the whole audit chain of 1,000 events (the dashboard and audit page show it).
func BenchmarkDeskVerifyAudit1k(b *testing.B) {
	d := benchDesk(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		st, err := d.VerifyAudit(ctx)
		if err != nil || !st.OK || st.Events != 1000 {
			b.Fatal(st, err)
		}
	}
}

// What the dashboard reads, over 1,000 published versions: counts by status, every open
// finding (for the top vulnerabilities), the newest decisions and the chain's length.
func BenchmarkDeskDashboard1k(b *testing.B) {
	d := benchDesk(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Counts(ctx); err != nil {
			b.Fatal(err)
		}
		fs, err := d.Findings(ctx, registry.FindingQuery{Statuses: []registry.Status{registry.StatusPublished}})
		if err != nil || len(fs) != 2000 {
			b.Fatal(len(fs), err)
		}
		_ = registry.TopVulnerabilities(fs, 10)
		if es, err := d.RecentAudit(ctx, 10, nil); err != nil || len(es) != 10 {
			b.Fatal(len(es), err)
		}
		if n, err := d.AuditLength(ctx); err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}
