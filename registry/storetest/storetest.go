package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// Run runs the conformance suite. newStore must return a fresh, empty store for each call
// (and close it at the test's cleanup); the subtests run in parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) registry.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"Ping", testPing},
		{"CreateGet", testCreateGet},
		{"CreateDefaults", testCreateDefaults},
		{"Idempotent", testIdempotent},
		{"Conflict", testConflict},
		{"Invalid", testInvalid},
		{"NotFound", testNotFound},
		{"Statuses", testStatuses},
		{"LatestRules", testLatestRules},
		{"LatestRecomputed", testLatestRecomputed},
		{"SetStatus", testSetStatus},
		{"Paging", testPaging},
		{"PagingStableUnderInserts", testPagingStableUnderInserts},
		{"LatestOnly", testLatestOnly},
		{"ExactVersion", testExactVersion},
		{"Search", testSearch},
		{"SearchIndex", testSearchIndex},
		{"UpdatedSince", testUpdatedSince},
		{"ChangeSeq", testChangeSeq},
		{"ConcurrentSameVersion", testConcurrentSameVersion},
		{"ConcurrentConflicting", testConcurrentConflicting},
		{"ConcurrentLatest", testConcurrentLatest},
		{"Bulk", testBulk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// base is the suite's reference time; it has microseconds, which every store must keep.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

// at returns base plus n minutes.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

// ver builds a version whose server.json names it, published at minute n.
func ver(name, version string, st registry.Status, n int) registry.Version {
	return registry.Version{
		Name:        name,
		Version:     version,
		Status:      st,
		ServerJSON:  []byte(fmt.Sprintf(`{"name":%q,"version":%q}`, name, version)),
		Served:      []byte(fmt.Sprintf(`{"name":%q,"version":%q,"served":true}`, name, version)),
		PublishedAt: at(n),
	}
}

func create(t *testing.T, s registry.Store, v registry.Version) registry.Version {
	t.Helper()
	got, created, err := s.CreateVersion(context.Background(), v)
	if err != nil {
		t.Fatalf("CreateVersion(%s@%s): %v", v.Name, v.Version, err)
	}
	if !created {
		t.Fatalf("CreateVersion(%s@%s): created = false for a new version", v.Name, v.Version)
	}
	return got
}

func setStatus(t *testing.T, s registry.Store, name, version string, st registry.Status, n int) registry.Version {
	t.Helper()
	got, err := s.SetStatus(context.Background(), registry.Key{Name: name, Version: version}, st, at(n))
	if err != nil {
		t.Fatalf("SetStatus(%s@%s, %s): %v", name, version, st, err)
	}
	return got
}

func latest(t *testing.T, s registry.Store, name string) string {
	t.Helper()
	v, err := s.LatestPublished(context.Background(), name)
	if err != nil {
		t.Fatalf("LatestPublished(%s): %v", name, err)
	}
	if !v.IsLatest || v.Status != registry.StatusPublished {
		t.Fatalf("LatestPublished(%s) = %s with IsLatest=%v status=%s", name, v.Version, v.IsLatest, v.Status)
	}
	return v.Version
}

func changeSeq(t *testing.T, s registry.Store) int64 {
	t.Helper()
	n, err := s.ChangeSeq(context.Background())
	if err != nil {
		t.Fatalf("ChangeSeq: %v", err)
	}
	return n
}

// wantErr fails unless err wraps target and its message contains every one of words.
func wantErr(t *testing.T, what string, err, target error, words ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%s: error %q does not mention %q", what, err, w)
		}
	}
}

// sameVersion fails unless got and want agree on every field.
func sameVersion(t *testing.T, what string, got, want registry.Version) {
	t.Helper()
	var diffs []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	check("Name", got.Name == want.Name, got.Name, want.Name)
	check("Version", got.Version == want.Version, got.Version, want.Version)
	check("Status", got.Status == want.Status, got.Status, want.Status)
	check("ServerJSON", bytes.Equal(got.ServerJSON, want.ServerJSON), string(got.ServerJSON), string(want.ServerJSON))
	check("Served", bytes.Equal(got.Served, want.Served), string(got.Served), string(want.Served))
	check("Vetted", bytes.Equal(got.Vetted, want.Vetted), string(got.Vetted), string(want.Vetted))
	check("ContentDigest", got.ContentDigest == want.ContentDigest, got.ContentDigest, want.ContentDigest)
	check("PublishedAt", got.PublishedAt.Equal(want.PublishedAt), got.PublishedAt, want.PublishedAt)
	check("UpdatedAt", got.UpdatedAt.Equal(want.UpdatedAt), got.UpdatedAt, want.UpdatedAt)
	check("IsLatest", got.IsLatest == want.IsLatest, got.IsLatest, want.IsLatest)
	if len(diffs) > 0 {
		t.Fatalf("%s:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func keys(vs []registry.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name + "@" + v.Version
	}
	return out
}

func sameKeys(t *testing.T, what string, got []registry.Version, want ...string) {
	t.Helper()
	g := keys(got)
	if strings.Join(g, " ") != strings.Join(want, " ") {
		t.Fatalf("%s:\n got  %v\n want %v", what, g, want)
	}
}
