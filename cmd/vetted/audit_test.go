package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

// `vetted audit verify` names tampered version rows and a truncated chain, on both stores,
// without --head.
func TestAuditVerifyCrossChecks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, auditDBFile)
	pgDSN := testSchemaDSN(t, testenv.PostgresDSN(t))
	type store interface {
		registry.Store
		AppendAudit(context.Context, registry.AuditEvent) (registry.AuditEvent, error)
	}
	backends := []struct {
		name string
		open func() store
		exec func(q string, args ...any)
		args []string
	}{
		{"sqlite", func() store {
			s, err := sqlite.Open(ctx, dbPath)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, func(q string, args ...any) {
			db, err := sql.Open("sqlite", "file:"+dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}, []string{"--data-dir", dir}},
		{"postgres", func() store {
			s, err := postgres.Open(ctx, pgDSN)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, func(q string, args ...any) {
			conn, err := pgx.Connect(ctx, pgDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, strings.ReplaceAll(q, "?", "$1"), args...); err != nil {
				t.Fatal(err)
			}
		}, []string{"--database", pgDSN}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open()
			at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			for i, v := range []string{"1.0.0", "1.1.0"} {
				if _, _, err := s.CreateVersion(ctx, registry.Version{Name: "io.github.acme/weather", Version: v, Status: registry.StatusPublished,
					ServerJSON: []byte(`{"name":"io.github.acme/weather","version":"` + v + `"}`), PublishedAt: at.Add(time.Duration(i) * time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.AppendAudit(ctx, registry.AuditEvent{Time: at, Type: registry.AuditConfigChange, Actor: "vetted", Subject: "policy"}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			verify := func() (auditResult, string, int) {
				out, errOut, code := runCLI(t, append([]string{"audit", "verify", "--json"}, b.args...)...)
				var res auditResult
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("exit %d: %s %s", code, out, errOut)
				}
				return res, out, code
			}
			if res, out, code := verify(); code != 0 || !res.OK || res.Versions != 2 || res.Events != 3 {
				t.Fatalf("intact: exit %d %s", code, out)
			}
			b.exec(`UPDATE versions SET served = ? WHERE version = '1.0.0'`, []byte(`{"name":"io.github.acme/weather","version":"1.0.0","evil":true}`))
			res, out, code := verify()
			if code != 1 || res.OK || len(res.Mismatches) != 1 || res.Mismatches[0].Subject != "io.github.acme/weather@1.0.0" ||
				res.Mismatches[0].Kind != registry.MismatchVersion {
				t.Fatalf("tampered row: exit %d %s", code, out)
			}
			text, _, code := runCLI(t, append([]string{"audit", "verify"}, b.args...)...)
			if code != 1 || !strings.Contains(text, "io.github.acme/weather@1.0.0: version tampered") {
				t.Fatalf("text: exit %d %s", code, text)
			}
			b.exec(`DELETE FROM audit_events WHERE seq = 3`)
			res, out, code = verify()
			if code != 1 || res.Break == nil || res.Break.Reason != registry.ChainTruncated {
				t.Fatalf("truncated chain without --head: exit %d %s", code, out)
			}
		})
	}
}
