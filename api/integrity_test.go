package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/jackc/pgx/v5"

	"github.com/vetted-dev/vetted/internal/testenv"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/sqlite"
)

// sqlStore is a real store with a way around it: exec runs SQL directly on its database,
// as someone with database access would, to tamper with rows.
type sqlStore struct {
	name  string
	store interface {
		registry.Store
		registry.PublishStore
		registry.EvidenceStore
	}
	exec func(t *testing.T, query string, args ...any)
}

func sqlStores(t *testing.T) []sqlStore {
	path := filepath.Join(t.TempDir(), "vetted.db")
	lite, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	dsn := testenv.PostgresDSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "vetted_api_integrity_" + hex.EncodeToString(b)
	pg, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pg.Close()
		if conn, err := pgx.Connect(context.Background(), dsn); err == nil {
			_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			conn.Close(context.Background())
		}
	})
	return []sqlStore{
		{"sqlite", lite, func(t *testing.T, query string, args ...any) {
			t.Helper()
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}},
		{"postgres", pg, func(t *testing.T, query string, args ...any) {
			t.Helper()
			conn, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "SET search_path TO "+schema); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(context.Background(), strings.ReplaceAll(query, "?", "$1"), args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}},
	}
}

func publishServerOn(t *testing.T, st sqlStore, log *slog.Logger) *Server {
	t.Helper()
	p, err := registry.NewPipeline(st.store, pubVerifier{}, pubScanner{}, pubTools{})
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, st.store, WithLogger(log), WithPublishing(PublishConfig{
		Pipeline: p, Evidence: st.store, Audit: st.store,
		Caller: func(ctx context.Context) (string, registry.Authorizer) {
			return "test|ci", registry.AuthorizerFunc(func(string) error { return nil })
		},
	}))
}

func metricValue(t *testing.T, h http.Handler, name string) string {
	t.Helper()
	for _, line := range strings.Split(get(t, h, "/metrics").body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("no metric %s", name)
	return ""
}

// A version row edited in the database is refused by the read path, with an alert and a
// metric, and its bytes are never served.
func TestTamperedVersionIsNotServed(t *testing.T) {
	for _, st := range sqlStores(t) {
		t.Run(st.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			h := publishServerOn(t, st, log).Handler()
			if r := post(t, h, "/v0.1/publish", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")); r.code != 200 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			const one = "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0"
			if r := get(t, h, one); r.code != 200 {
				t.Fatalf("intact: %d %s", r.code, r.body)
			}
			st.exec(t, `UPDATE versions SET served = ? WHERE name = 'io.github.acme/weather'`,
				[]byte(`{"name":"io.github.acme/weather","version":"1.0.0","packages":[{"registryType":"oci","identifier":"ghcr.io/evil/unsigned:1"}]}`))
			// A fresh server: its cache fills from the tampered row.
			h = publishServerOn(t, st, log).Handler()
			for _, path := range []string{one, "/v0.1/servers/io.github.acme%2Fweather/versions/latest",
				"/v0.1/servers/io.github.acme%2Fweather/versions", "/v0.1/servers", "/v0.1/servers?search=weather"} {
				r := get(t, h, path)
				if r.code != http.StatusInternalServerError || !strings.Contains(r.body, "failed its integrity check") || strings.Contains(r.body, "evil") {
					t.Fatalf("GET %s on a tampered row: %d %s", path, r.code, r.body)
				}
			}
			if got := metricValue(t, h, "vetted_integrity_failures_total"); got != "5" {
				t.Fatalf("vetted_integrity_failures_total = %s, want 5", got)
			}
			if !strings.Contains(logs.String(), `"alert":true`) || !strings.Contains(logs.String(), "served document hashes to") {
				t.Fatalf("no alert logged: %s", logs.String())
			}
		})
	}
}

// Deleting the newest audit event puts the registry into its read-only state: writes answer
// a 503 problem saying so (never a bare 500) and count in a metric; reads keep working.
func TestBrokenChainIsReadOnly(t *testing.T) {
	for _, st := range sqlStores(t) {
		t.Run(st.name, func(t *testing.T) {
			h := publishServerOn(t, st, slog.New(slog.DiscardHandler)).Handler()
			if r := post(t, h, "/v0.1/publish", pubBody("io.github.acme/weather", "1.0.0", "ghcr.io/acme/w:1")); r.code != 200 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			if _, err := st.store.AppendAudit(context.Background(), registry.AuditEvent{Type: registry.AuditConfigChange, Actor: "vetted", Subject: "policy"}); err != nil {
				t.Fatal(err)
			}
			st.exec(t, `DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)`)
			before := metricValue(t, h, "vetted_audit_chain_broken_total")
			for _, body := range []string{
				pubBody("io.github.acme/weather", "2.0.0", "ghcr.io/acme/w:2"),        // published
				pubBody("io.github.acme/weather", "3.0.0", "ghcr.io/acme/unsigned:3"), // rejected: its audit event
			} {
				r := post(t, h, "/v0.1/publish", body)
				var p struct{ Type, Title, Detail string }
				if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.code != http.StatusServiceUnavailable ||
					p.Type != ProblemReadOnly || p.Title != "Registry is read-only" || !strings.Contains(p.Detail, "audit chain") {
					t.Fatalf("publish on a broken chain: %d %s", r.code, r.body)
				}
			}
			after := metricValue(t, h, "vetted_audit_chain_broken_total")
			var b, a int
			fmt.Sscan(before, &b)
			fmt.Sscan(after, &a)
			if a-b != 2 {
				t.Fatalf("vetted_audit_chain_broken_total went from %s to %s, want +2", before, after)
			}
			if r := get(t, h, "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0"); r.code != 200 {
				t.Fatalf("reads on a broken chain: %d %s", r.code, r.body)
			}
		})
	}
}

// A list or search reads versions without their stored server.json (ListQuery.Serving). A
// version whose creating event predates served digests is then checked on its whole row:
// intact it is served, with an edited server.json it is refused like any tampered row.
func TestLegacySealedVersionInLists(t *testing.T) {
	for _, st := range sqlStores(t) {
		t.Run(st.name, func(t *testing.T) {
			const name = "io.github.acme/legacy"
			raw := []byte(`{"name":"` + name + `","description":"Legacy weather","version":"1.0.0"}`)
			cd, err := registry.CanonicalContentDigest(raw)
			if err != nil {
				t.Fatal(err)
			}
			served, err := jcs.Transform(raw)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			if _, _, err := st.store.CreateVersion(context.Background(), registry.Version{Name: name, Version: "1.0.0",
				Status: registry.StatusPublished, ServerJSON: raw, Served: served, ContentDigest: cd, PublishedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			// What an event written before seals recorded: the content digest and the pins.
			legacy, _ := json.Marshal(map[string]any{"contentDigest": cd, "packages": []any{}, "status": "published"})
			st.exec(t, `UPDATE audit_events SET data = ? WHERE subject = '`+name+`@1.0.0'`, legacy)

			page, _, err := st.store.ListVersionsPage(context.Background(), registry.ListQuery{Limit: 10, Search: "legacy", Serving: true})
			if err != nil || len(page) != 1 {
				t.Fatalf("serving read: %v %v", page, err)
			}
			if page[0].ServerJSON != nil {
				t.Fatalf("a serving read returned the stored server.json (%d bytes)", len(page[0].ServerJSON))
			}
			if err := registry.CheckSealed(page[0]); !errors.Is(err, registry.ErrNeedsServerJSON) {
				t.Fatalf("CheckSealed of a serving read of a legacy version = %v, want ErrNeedsServerJSON", err)
			}

			// A row that serves its stored server.json (an empty served column) is read with it.
			st.exec(t, `UPDATE versions SET served = ? WHERE name = '`+name+`'`, []byte{})
			page, _, err = st.store.ListVersionsPage(context.Background(), registry.ListQuery{Limit: 10, Search: "legacy", Serving: true})
			if err != nil || len(page) != 1 || !bytes.Equal(page[0].ServerJSON, raw) {
				t.Fatalf("serving read of a row without served bytes: %v %v", page, err)
			}
			st.exec(t, `UPDATE versions SET served = ? WHERE name = '`+name+`'`, served)

			var logs bytes.Buffer
			h := publishServerOn(t, st, slog.New(slog.NewJSONHandler(&logs, nil))).Handler()
			for _, path := range []string{"/v0.1/servers?search=legacy", "/v0.1/servers"} {
				r := get(t, h, path)
				if r.code != 200 || !strings.Contains(r.body, "Legacy weather") {
					t.Fatalf("GET %s of an intact legacy version: %d %s", path, r.code, r.body)
				}
			}
			st.exec(t, `UPDATE versions SET server_json = ? WHERE name = '`+name+`'`,
				[]byte(strings.Replace(string(raw), "Legacy weather", "Evil", 1)))
			h = publishServerOn(t, st, slog.New(slog.NewJSONHandler(&logs, nil))).Handler()
			for _, path := range []string{"/v0.1/servers?search=legacy", "/v0.1/servers"} {
				r := get(t, h, path)
				if r.code != http.StatusInternalServerError || !strings.Contains(r.body, "failed its integrity check") {
					t.Fatalf("GET %s with the legacy version's server.json edited: %d %s", path, r.code, r.body)
				}
			}
			if !strings.Contains(logs.String(), "no longer hashes to the recorded content digest") {
				t.Fatalf("the alert does not name the check: %s", logs.String())
			}
		})
	}
}
