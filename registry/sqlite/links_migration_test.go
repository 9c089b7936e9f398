package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

// Migration 0008 drops the links an older version stored in the served _meta (the API
// renders them at response time now) and keeps everything else in the object.
func TestMigrationDropsStoredLinks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vetted.db")
	s := open(t, path)
	stored := `{"packages":[],"decidedAt":"2026-11-25T12:00:00Z","links":{"tools":"/v0.1/x/dev.vetted/servers/a/versions/1/tools"}}`
	k := registry.Key{Name: "io.github.acme/a", Version: "1.0.0"}
	if _, _, err := s.CreateVersion(ctx, registry.Version{Name: k.Name, Version: k.Version, Status: registry.StatusPublished,
		ServerJSON: []byte(`{}`), Vetted: []byte(stored)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateVersion(ctx, registry.Version{Name: k.Name, Version: "2.0.0", Status: registry.StatusPublished,
		ServerJSON: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path)
	v, err := s2.GetVersion(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v.Vetted, &m); err != nil {
		t.Fatalf("migrated _meta is not an object: %v: %s", err, v.Vetted)
	}
	if _, ok := m["links"]; ok || len(m) != 2 || !bytes.Equal(m["decidedAt"], []byte(`"2026-11-25T12:00:00Z"`)) {
		t.Fatalf("migrated _meta = %s, want the stored object without links", v.Vetted)
	}
	if v2, err := s2.GetVersion(ctx, registry.Key{Name: k.Name, Version: "2.0.0"}); err != nil || len(v2.Vetted) != 0 {
		t.Fatalf("a version without _meta: %q, %v", v2.Vetted, err)
	}
}
