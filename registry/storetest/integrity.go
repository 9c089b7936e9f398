package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// IntegrityStore is what the integrity suite needs: a publish store with its head row.
type IntegrityStore interface {
	PublishStore
	AuditHead(ctx context.Context) (int64, string, error)
}

func asIntegrity(t *testing.T, s PublishStore) IntegrityStore {
	t.Helper()
	is, ok := s.(IntegrityStore)
	if !ok {
		t.Fatalf("%T has no AuditHead", s)
	}
	return is
}

// sealedPublication is a publication whose server.json is a real document, so that its
// content digest can be recomputed.
func sealedPublication(name, version string, st registry.Status, n int) registry.Publication {
	p := publication(name, version, st, n)
	raw := []byte(fmt.Sprintf(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":%q,"description":"d","version":%q,"packages":[{"registryType":"oci","identifier":"ghcr.io/x/y:1","transport":{"type":"stdio"}}]}`, name, version))
	cd, err := registry.CanonicalContentDigest(raw)
	if err != nil {
		panic(err)
	}
	doc, err := registry.ParseServerJSON(raw)
	if err != nil {
		panic(err)
	}
	served, err := registry.PinServer(doc.Server, map[int]string{0: "ghcr.io/x/y@" + digestA})
	if err != nil {
		panic(err)
	}
	p.Version.ServerJSON, p.Version.Served, p.Version.ContentDigest = raw, served, cd
	return p
}

func verifyStore(t *testing.T, s PublishStore) registry.StoreReport {
	t.Helper()
	rep, err := registry.VerifyStore(context.Background(), asIntegrity(t, s), "")
	if err != nil {
		t.Fatalf("VerifyStore: %v", err)
	}
	return rep
}

// wantMismatch fails unless rep names exactly one mismatch, of kind for subject, whose
// detail contains words.
func wantMismatch(t *testing.T, rep registry.StoreReport, subject, kind string, words ...string) {
	t.Helper()
	if rep.OK || rep.Break != nil || len(rep.Mismatches) != 1 {
		t.Fatalf("want one %q mismatch of %s, got ok=%v break=%v mismatches=%v", kind, subject, rep.OK, rep.Break, rep.Mismatches)
	}
	m := rep.Mismatches[0]
	if m.Subject != subject || m.Kind != kind {
		t.Fatalf("mismatch %v; want %s of %s", m, kind, subject)
	}
	for _, w := range words {
		if !strings.Contains(m.Detail, w) {
			t.Fatalf("mismatch %v does not say %q", m, w)
		}
	}
}

// wantSealFailure fails unless reading k and checking it against its audit event fails for
// the reason given.
func wantSealFailure(t *testing.T, s PublishStore, k registry.Key, reason string) {
	t.Helper()
	v, err := s.GetVersion(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	err = registry.CheckSealed(v)
	var ie *registry.IntegrityError
	if !errors.As(err, &ie) || !strings.Contains(ie.Reason, reason) {
		t.Fatalf("CheckSealed(%s@%s) = %v; want an integrity error saying %q", k.Name, k.Version, err, reason)
	}
}

// testTamperedVersions edits version rows behind the store's back: the read path's check
// (CheckSealed) and the chain cross-check (VerifyStore) must both name each edit.
func testTamperedVersions(t *testing.T, b Backend) {
	ph := b.Placeholder
	const subject = "io.github.acme/a@1.0.0"
	k := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	cases := []struct {
		name    string
		tamper  func(t *testing.T, s PublishStore)
		subject string
		kind    string
		detail  string
		read    string // CheckSealed's reason; "" when what is served did not change
	}{
		{"served document", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE versions SET served = `+ph(1)+` WHERE name = 'io.github.acme/a' AND version = '1.0.0'`,
				[]byte(`{"name":"io.github.acme/a","version":"1.0.0","packages":[{"registryType":"oci","identifier":"ghcr.io/evil/unsigned:1"}]}`))
		}, subject, registry.MismatchVersion, "served document hashes to", "served document hashes to"},
		{"submitted server.json", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE versions SET server_json = `+ph(1)+` WHERE name = 'io.github.acme/a' AND version = '1.0.0'`,
				[]byte(`{"name":"io.github.acme/a","description":"evil","version":"1.0.0"}`))
		}, subject, registry.MismatchVersion, "stored server.json hashes to", ""},
		{"content digest", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE versions SET content_digest = 'sha256:`+strings.Repeat("b", 64)+`' WHERE name = 'io.github.acme/a' AND version = '1.0.0'`)
		}, subject, registry.MismatchVersion, "content_digest column", "content digest"},
		{"pinned package", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE version_packages SET pinned = 'ghcr.io/evil/unsigned@sha256:`+strings.Repeat("c", 64)+`' WHERE name = 'io.github.acme/a' AND version = '1.0.0'`)
		}, subject, registry.MismatchPackages, "ghcr.io/evil/unsigned", ""},
		{"status", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE versions SET status = 'published' WHERE name = 'io.github.acme/a' AND version = '1.1.0'`)
		}, "io.github.acme/a@1.1.0", registry.MismatchStatus, "leaves it quarantined", ""},
		{"creating event swapped", func(t *testing.T, s PublishStore) {
			b.Exec(t, s, `UPDATE versions SET audit_seq = 2 WHERE name = 'io.github.acme/a' AND version = '1.0.0'`)
		}, subject, "", "", "did not create this version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.New(t)
			commit(t, s, sealedPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
			commit(t, s, sealedPublication("io.github.acme/a", "1.1.0", registry.StatusPublished, 2))
			if _, err := s.Transition(ctx, registry.Transition{Key: registry.Key{Name: "io.github.acme/a", Version: "1.1.0"},
				To: registry.StatusQuarantined, At: at(3), Audit: registry.AuditEvent{Time: at(3), Type: registry.AuditQuarantine,
					Actor: "vetted", Subject: "io.github.acme/a@1.1.0", Data: json.RawMessage(`{}`)}}); err != nil {
				t.Fatal(err)
			}
			if rep := verifyStore(t, s); !rep.OK || rep.Versions != 2 || rep.Events != 3 {
				t.Fatalf("intact store: %+v", rep)
			}
			v, err := s.GetVersion(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if err := registry.CheckSealed(v); err != nil {
				t.Fatalf("intact version: %v", err)
			}
			tc.tamper(t, s)
			if tc.kind != "" {
				wantMismatch(t, verifyStore(t, s), tc.subject, tc.kind, tc.detail)
			}
			if tc.read != "" {
				wantSealFailure(t, s, k, tc.read)
			}
		})
	}

	t.Run("inserted without an event", func(t *testing.T) {
		s := b.New(t)
		commit(t, s, sealedPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
		b.Exec(t, s, `INSERT INTO versions (name, version, status, server_json, served, content_digest, published_at, updated_at, is_latest)
			SELECT name, '9.0.0', status, server_json, served, content_digest, published_at, updated_at, `+falseLiteral(ph)+`
			FROM versions WHERE name = 'io.github.acme/a' AND version = '1.0.0'`)
		wantMismatch(t, verifyStore(t, s), "io.github.acme/a@9.0.0", registry.MismatchNoEvent)
		wantSealFailure(t, s, registry.Key{Name: "io.github.acme/a", Version: "9.0.0"}, "no audit event records this version")
	})

	t.Run("imports and status changes are recorded", func(t *testing.T) {
		ctx := context.Background()
		s := b.New(t)
		v := create(t, s, ver("io.github.acme/imp", "1.0.0", registry.StatusPublished, 1))
		if err := registry.CheckSealed(v); err != nil {
			t.Fatalf("imported version: %v", err)
		}
		if _, err := s.SetStatus(ctx, v.Key(), registry.StatusDeprecated, at(2)); err != nil {
			t.Fatal(err)
		}
		if bc, ok := s.(registry.BulkCreator); ok {
			if _, err := bc.CreateVersions(ctx, []registry.Version{ver("io.github.acme/bulk", "1.0.0", registry.StatusPublished, 3),
				ver("io.github.acme/bulk", "2.0.0", registry.StatusPublished, 4)}); err != nil {
				t.Fatal(err)
			}
		}
		if rep := verifyStore(t, s); !rep.OK || rep.Versions != 3 {
			t.Fatalf("imports: %+v", rep)
		}
		b.Exec(t, s, `UPDATE versions SET status = 'published' WHERE name = 'io.github.acme/imp'`)
		wantMismatch(t, verifyStore(t, s), "io.github.acme/imp@1.0.0", registry.MismatchStatus, "leaves it deprecated")
	})
}

// falseLiteral is the SQL false of the backend ("?" placeholders mean SQLite's 0).
func falseLiteral(ph func(int) string) string {
	if ph(1) == "?" {
		return "0"
	}
	return "false"
}

// testTruncatedChain deletes the newest audit event: verification detects it from the head
// row alone, and every write that would extend the chain fails with ErrAuditChain (the
// server's read-only state) while reads keep working.
func testTruncatedChain(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	commit(t, s, sealedPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
	commit(t, s, sealedPublication("io.github.acme/a", "1.1.0", registry.StatusPublished, 2))
	seq, hash, err := asIntegrity(t, s).AuditHead(ctx)
	if err != nil || seq != 2 || !strings.HasPrefix(hash, "sha256:") {
		t.Fatalf("head = %d %q, %v", seq, hash, err)
	}
	b.Exec(t, s, `DELETE FROM audit_events WHERE seq = 2`)
	rep := verifyStore(t, s)
	if rep.OK || rep.Break == nil || rep.Break.Reason != registry.ChainTruncated || rep.Events != 1 {
		t.Fatalf("after deleting the newest event: %+v", rep)
	}
	writes := map[string]func() error{
		"append": func() error {
			_, err := s.AppendAudit(ctx, registry.AuditEvent{Time: at(3), Type: registry.AuditConfigChange, Actor: "admin", Subject: "x"})
			return err
		},
		"publish": func() error {
			_, _, err := s.CommitPublication(ctx, sealedPublication("io.github.acme/a", "2.0.0", registry.StatusPublished, 3))
			return err
		},
		"transition": func() error {
			_, err := s.Transition(ctx, registry.Transition{Key: registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}, To: registry.StatusQuarantined,
				At: at(4), Audit: registry.AuditEvent{Time: at(4), Type: registry.AuditQuarantine, Actor: "vetted", Subject: "io.github.acme/a@1.0.0"}})
			return err
		},
		"set status": func() error {
			_, err := s.SetStatus(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}, registry.StatusDeprecated, at(5))
			return err
		},
		"create": func() error {
			_, _, err := s.CreateVersion(ctx, ver("io.github.acme/b", "1.0.0", registry.StatusPublished, 6))
			return err
		},
	}
	for name, w := range writes {
		err := w()
		var ce *registry.ChainError
		if !errors.Is(err, registry.ErrAuditChain) || !errors.As(err, &ce) || ce.Reason != registry.ChainTruncated {
			t.Fatalf("%s on a truncated chain: %v; want ErrAuditChain (truncated)", name, err)
		}
	}
	if es := allAudit(t, s); len(es) != 1 {
		t.Fatalf("writes on a broken chain appended: %d events", len(es))
	}
	if _, err := s.GetVersion(ctx, registry.Key{Name: "io.github.acme/a", Version: "1.1.0"}); err != nil {
		t.Fatalf("reads must keep working: %v", err)
	}
	if _, err := s.GetVersion(ctx, registry.Key{Name: "io.github.acme/a", Version: "2.0.0"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("the refused publish wrote its version: %v", err)
	}
}

// testNamespaceRace commits versions of two new look-alike namespaces at once, both checked
// against the same (empty) set of namespaces: only one may be recorded on that basis; the
// other must be told the namespaces changed.
func testNamespaceRace(t *testing.T, b Backend) {
	s := b.New(t)
	stores := []PublishStore{s, s}
	if b.Second != nil {
		stores[1] = b.Second(t, s)
	}
	for round, names := range [][2]string{{"io.github.acme/a", "io.github.acne/a"}, {"com.weather-co/a", "com.waether-co/a"}} {
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [2]error
		)
		seen, err := s.Namespaces(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if seen == nil {
			seen = []string{}
		}
		for i, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := sealedPublication(n, "1.0.0", registry.StatusPublished, round)
				p.SeenNamespaces = seen
				<-start
				_, _, errs[i] = stores[i].CommitPublication(context.Background(), p)
			}()
		}
		close(start)
		wg.Wait()
		ok, changed := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, registry.ErrNamespacesChanged):
				changed++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || changed != 1 {
			t.Fatalf("round %d: %d recorded, %d told the namespaces changed (%v); want 1 and 1", round, ok, changed, errs)
		}
	}
	// A namespace the check saw needs no serialization: a basis that missed others is fine.
	p := sealedPublication("io.github.acme/b", "1.0.0", registry.StatusPublished, 5)
	p.SeenNamespaces = []string{"io.github.acme"}
	if _, _, err := s.CommitPublication(context.Background(), p); err != nil {
		t.Fatalf("version of a namespace the check saw: %v", err)
	}
}

// testIntegrityMigration rolls a store back to before the integrity migration (its rows and
// events kept) and opens it again: the migration must link every version to the event that
// published it, and keep the head at the chain's end.
func testIntegrityMigration(t *testing.T, b Backend) {
	if b.Second == nil {
		t.Fatal("the integrity migration test needs Backend.Second to reopen the database")
	}
	ctx := context.Background()
	s := b.New(t)
	commit(t, s, sealedPublication("io.github.acme/a", "1.0.0", registry.StatusPublished, 1))
	commit(t, s, sealedPublication("io.github.acme/a", "1.1.0", registry.StatusPendingReview, 2))
	b.Exec(t, s, `ALTER TABLE versions DROP COLUMN audit_seq`)
	if b.Placeholder(1) == "?" {
		b.Exec(t, s, `DROP TABLE audit_head`) // SQLite had no head row before
	}
	b.Exec(t, s, `DELETE FROM schema_migrations WHERE version = 5`)
	again := b.Second(t, s)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		got, err := again.GetVersion(ctx, registry.Key{Name: "io.github.acme/a", Version: v})
		if err != nil {
			t.Fatal(err)
		}
		if err := registry.CheckSealed(got); err != nil {
			t.Fatalf("after the migration: %v", err)
		}
	}
	if rep := verifyStore(t, again); !rep.OK || rep.Versions != 2 || rep.Events != 2 {
		t.Fatalf("after the migration: %+v", rep)
	}
}
