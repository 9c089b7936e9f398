package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

func testPing(t *testing.T, s registry.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCreateGet(t *testing.T, s registry.Store) {
	ctx := context.Background()
	in := ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0)
	in.Vetted = []byte(`{"verified":true}`)
	in.UpdatedAt = at(1)
	got := create(t, s, in)

	want := in
	want.ContentDigest = registry.ContentDigest(in.ServerJSON)
	want.IsLatest = true
	sameVersion(t, "CreateVersion result", got, want)

	stored, err := s.GetVersion(ctx, in.Key())
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	sameVersion(t, "GetVersion", stored, want)

	// Not published: stored as is, never latest.
	pending := ver("io.github.acme/weather", "2.0.0", registry.StatusPendingReview, 2)
	got = create(t, s, pending)
	want = pending
	want.ContentDigest = registry.ContentDigest(pending.ServerJSON)
	want.UpdatedAt = pending.PublishedAt
	sameVersion(t, "CreateVersion of a pending version", got, want)
}

func testCreateDefaults(t *testing.T, s registry.Store) {
	in := registry.Version{
		Name:       "io.github.acme/defaults",
		Version:    "0.1.0",
		Status:     registry.StatusPublished,
		ServerJSON: []byte(`{"name":"io.github.acme/defaults"}`),
	}
	before := time.Now().Add(-time.Minute)
	got := create(t, s, in)
	if got.PublishedAt.Before(before) || got.PublishedAt.Location() != time.UTC {
		t.Fatalf("PublishedAt = %v, want now in UTC", got.PublishedAt)
	}
	if !got.UpdatedAt.Equal(got.PublishedAt) {
		t.Fatalf("UpdatedAt = %v, want PublishedAt %v", got.UpdatedAt, got.PublishedAt)
	}
	if string(got.Served) != string(in.ServerJSON) {
		t.Fatalf("Served = %s, want the submitted server.json", got.Served)
	}
	if got.ContentDigest != registry.ContentDigest(in.ServerJSON) {
		t.Fatalf("ContentDigest = %s, want %s", got.ContentDigest, registry.ContentDigest(in.ServerJSON))
	}
	// A sub-microsecond time is kept at microsecond precision by every store.
	fine := ver("io.github.acme/defaults", "0.2.0", registry.StatusPublished, 0)
	fine.PublishedAt = base.Add(789 * time.Nanosecond)
	if got := create(t, s, fine); !got.PublishedAt.Equal(base) {
		t.Fatalf("PublishedAt = %v, want %v (truncated to microseconds)", got.PublishedAt, base)
	}
}

func testIdempotent(t *testing.T, s registry.Store) {
	ctx := context.Background()
	in := ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0)
	first := create(t, s, in)
	seq := changeSeq(t, s)

	again := in
	again.PublishedAt = at(5) // a retry later: the first record stands
	got, created, err := s.CreateVersion(ctx, again)
	if err != nil {
		t.Fatalf("re-create: %v", err)
	}
	if created {
		t.Fatalf("re-create: created = true, want false")
	}
	sameVersion(t, "re-create result", got, first)
	if n := changeSeq(t, s); n != seq {
		t.Fatalf("ChangeSeq moved from %d to %d on an idempotent re-create", seq, n)
	}
}

func testConflict(t *testing.T, s registry.Store) {
	ctx := context.Background()
	in := ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0)
	first := create(t, s, in)
	seq := changeSeq(t, s)

	other := in
	other.ServerJSON = []byte(`{"name":"io.github.acme/weather","version":"1.0.0","description":"changed"}`)
	_, created, err := s.CreateVersion(ctx, other)
	wantErr(t, "create with different content", err, registry.ErrConflict, "io.github.acme/weather@1.0.0", "different content")
	if created {
		t.Fatalf("conflicting create reported created = true")
	}
	stored, err := s.GetVersion(ctx, in.Key())
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	sameVersion(t, "stored version after a conflict", stored, first)
	if n := changeSeq(t, s); n != seq {
		t.Fatalf("ChangeSeq moved from %d to %d on a conflict", seq, n)
	}
}

func testInvalid(t *testing.T, s registry.Store) {
	ctx := context.Background()
	good := ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0)
	cases := []struct {
		name   string
		mutate func(*registry.Version)
		word   string
	}{
		{"empty name", func(v *registry.Version) { v.Name = "" }, "empty server name"},
		{"empty version", func(v *registry.Version) { v.Version = "" }, "empty version"},
		{"unknown status", func(v *registry.Version) { v.Status = "live" }, `unknown status "live"`},
		{"empty server.json", func(v *registry.Version) { v.ServerJSON = nil }, "empty server.json"},
		{"invalid UTF-8 in the name", func(v *registry.Version) { v.Name = "io.github.acme/\xff" }, "not valid UTF-8"},
		{"NUL in the version", func(v *registry.Version) { v.Version = "1.0.0\x00" }, "not valid UTF-8"},
		{"an overlong name", func(v *registry.Version) { v.Name = strings.Repeat("a", registry.MaxKeyLen+1) }, "at most"},
	}
	for _, c := range cases {
		v := good
		c.mutate(&v)
		_, _, err := s.CreateVersion(ctx, v)
		wantErr(t, "CreateVersion with "+c.name, err, registry.ErrInvalid, c.word)
	}
	create(t, s, good)
	_, err := s.SetStatus(ctx, good.Key(), "gone", at(1))
	wantErr(t, "SetStatus to an unknown status", err, registry.ErrInvalid, `unknown status "gone"`)

	for _, limit := range []int{0, -1, registry.MaxListLimit + 1} {
		_, _, err := s.ListVersionsPage(ctx, registry.ListQuery{Limit: limit})
		wantErr(t, "ListVersionsPage with a bad limit", err, registry.ErrInvalid, "limit")
	}
	_, _, err = s.ListVersionsPage(ctx, registry.ListQuery{Limit: 10, Statuses: []registry.Status{"live"}})
	wantErr(t, "ListVersionsPage with an unknown status", err, registry.ErrInvalid, `unknown status "live"`)
	_, err = s.ListServerVersions(ctx, good.Name, "live")
	wantErr(t, "ListServerVersions with an unknown status", err, registry.ErrInvalid, `unknown status "live"`)
	for _, q := range []registry.ListQuery{
		{Limit: 10, Search: "\xff\xfe"},
		{Limit: 10, Search: "a\x00b"},
		{Limit: 10, Version: "\xc3"},
		{Limit: 10, After: &registry.Key{Name: "io.github.acme/\xff", Version: "1"}},
	} {
		_, _, err := s.ListVersionsPage(ctx, q)
		wantErr(t, fmt.Sprintf("ListVersionsPage(%+v)", q), err, registry.ErrInvalid, "not valid UTF-8")
	}
}

func testNotFound(t *testing.T, s registry.Store) {
	ctx := context.Background()
	create(t, s, ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0))
	create(t, s, ver("io.github.acme/hidden", "1.0.0", registry.StatusPendingReview, 0))

	_, err := s.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: "9.9.9"})
	wantErr(t, "GetVersion of an unknown version", err, registry.ErrNotFound, "io.github.acme/weather@9.9.9")
	_, err = s.GetVersion(ctx, registry.Key{Name: "io.github.acme/nope", Version: "1.0.0"})
	wantErr(t, "GetVersion of an unknown server", err, registry.ErrNotFound, "io.github.acme/nope")
	_, err = s.LatestPublished(ctx, "io.github.acme/nope")
	wantErr(t, "LatestPublished of an unknown server", err, registry.ErrNotFound, "io.github.acme/nope")
	_, err = s.LatestPublished(ctx, "io.github.acme/hidden")
	wantErr(t, "LatestPublished of a server with nothing published", err, registry.ErrNotFound, "io.github.acme/hidden")
	_, err = s.ListServerVersions(ctx, "io.github.acme/nope")
	wantErr(t, "ListServerVersions of an unknown server", err, registry.ErrNotFound, "io.github.acme/nope")
	_, err = s.ListServerVersions(ctx, "io.github.acme/hidden")
	wantErr(t, "ListServerVersions of a server with nothing published", err, registry.ErrNotFound, "io.github.acme/hidden")
	_, err = s.SetStatus(ctx, registry.Key{Name: "io.github.acme/weather", Version: "9.9.9"}, registry.StatusQuarantined, at(1))
	wantErr(t, "SetStatus of an unknown version", err, registry.ErrNotFound, "io.github.acme/weather@9.9.9")

	// Keys no store can hold are simply not found (never a driver error).
	for _, name := range []string{"io.github.acme/\xff", "a\x00b"} {
		_, err = s.GetVersion(ctx, registry.Key{Name: name, Version: "1.0.0"})
		wantErr(t, fmt.Sprintf("GetVersion(%q)", name), err, registry.ErrNotFound)
		_, err = s.GetVersion(ctx, registry.Key{Name: "io.github.acme/weather", Version: name})
		wantErr(t, fmt.Sprintf("GetVersion(version %q)", name), err, registry.ErrNotFound)
		_, err = s.LatestPublished(ctx, name)
		wantErr(t, fmt.Sprintf("LatestPublished(%q)", name), err, registry.ErrNotFound)
		_, err = s.ListServerVersions(ctx, name)
		wantErr(t, fmt.Sprintf("ListServerVersions(%q)", name), err, registry.ErrNotFound)
		_, err = s.SetStatus(ctx, registry.Key{Name: name, Version: "1.0.0"}, registry.StatusPublished, at(1))
		wantErr(t, fmt.Sprintf("SetStatus(%q)", name), err, registry.ErrNotFound)
	}
	// Very long keys too.
	_, err = s.GetVersion(ctx, registry.Key{Name: strings.Repeat("n", 100000), Version: "1.0.0"})
	wantErr(t, "GetVersion of a 100 kB name", err, registry.ErrNotFound)
}

func testSetStatus(t *testing.T, s registry.Store) {
	ctx := context.Background()
	in := create(t, s, ver("io.github.acme/weather", "1.0.0", registry.StatusPublished, 0))
	seq := changeSeq(t, s)
	got := setStatus(t, s, in.Name, in.Version, registry.StatusDeprecated, 7)
	want := in
	want.Status = registry.StatusDeprecated
	want.UpdatedAt = at(7)
	want.IsLatest = false
	sameVersion(t, "SetStatus result", got, want)
	stored, err := s.GetVersion(ctx, in.Key())
	if err != nil {
		t.Fatalf("GetVersion: %v", err)
	}
	sameVersion(t, "GetVersion after SetStatus", stored, want)
	if n := changeSeq(t, s); n <= seq {
		t.Fatalf("ChangeSeq = %d after SetStatus, want > %d", n, seq)
	}
}

func testChangeSeq(t *testing.T, s registry.Store) {
	prev := changeSeq(t, s)
	step := func(what string) {
		t.Helper()
		n := changeSeq(t, s)
		if n <= prev {
			t.Fatalf("ChangeSeq = %d after %s, want > %d", n, what, prev)
		}
		prev = n
	}
	create(t, s, ver("io.github.acme/a", "1.0.0", registry.StatusPublished, 0))
	step("a published create")
	create(t, s, ver("io.github.acme/a", "2.0.0", registry.StatusPendingReview, 1))
	step("a pending create")
	setStatus(t, s, "io.github.acme/a", "2.0.0", registry.StatusPublished, 2)
	step("publishing a pending version")
	setStatus(t, s, "io.github.acme/a", "2.0.0", registry.StatusQuarantined, 3)
	step("quarantining the latest")
	setStatus(t, s, "io.github.acme/a", "2.0.0", registry.StatusPublished, 4)
	step("releasing it")
	if b, ok := s.(registry.BulkCreator); ok {
		if _, err := b.CreateVersions(context.Background(), []registry.Version{ver("io.github.acme/b", "1.0.0", registry.StatusPublished, 5)}); err != nil {
			t.Fatalf("CreateVersions: %v", err)
		}
		step("a bulk create")
	}
}

func errIsNotFound(err error) bool { return errors.Is(err, registry.ErrNotFound) }
