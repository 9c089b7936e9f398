package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// BenchName returns the name of server i in Dataset.
func BenchName(i int) string { return fmt.Sprintf("io.github.bench%05d/server-%05d", i, i) }

// Dataset returns servers × versions published versions ("1.0.0", "1.1.0", …) with a
// server.json of realistic size (about 700 bytes), for benchmarks and load tests.
func Dataset(servers, versions int) []registry.Version {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]registry.Version, 0, servers*versions)
	for i := 0; i < servers; i++ {
		name := BenchName(i)
		for j := 0; j < versions; j++ {
			v := fmt.Sprintf("1.%d.0", j)
			doc := fmt.Sprintf(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json",`+
				`"name":%q,"title":"Bench server %d","description":"A server for benchmarks: it answers questions about weather, maps and the time in any city of the world.",`+
				`"version":%q,"repository":{"url":"https://github.com/bench%05d/server","source":"github"},"websiteUrl":"https://bench%05d.example.com/",`+
				`"packages":[{"registryType":"oci","identifier":"ghcr.io/bench%05d/server:%s","transport":{"type":"stdio"},`+
				`"environmentVariables":[{"name":"API_KEY","description":"Key for the upstream API","isRequired":true,"isSecret":true}]}]}`,
				name, i, v, i, i, i, v)
			out = append(out, registry.Version{
				Name:        name,
				Version:     v,
				Status:      registry.StatusPublished,
				ServerJSON:  []byte(doc),
				Served:      []byte(doc),
				Vetted:      []byte(`{"verified":true,"signer":"https://github.com/bench/server/.github/workflows/release.yml@refs/heads/main"}`),
				PublishedAt: t0.Add(time.Duration(i*versions+j) * time.Second),
			})
		}
	}
	return out
}

// Load seeds s with Dataset(servers, versions) through registry.BulkCreator, in chunks of
// 10,000 versions per transaction.
func Load(tb testing.TB, s registry.Store, servers, versions int) {
	tb.Helper()
	bc, ok := s.(registry.BulkCreator)
	if !ok {
		tb.Fatalf("%T has no bulk create", s)
	}
	vs := Dataset(servers, versions)
	start := time.Now()
	for len(vs) > 0 {
		n := min(len(vs), 10000)
		if _, err := bc.CreateVersions(context.Background(), vs[:n]); err != nil {
			tb.Fatalf("CreateVersions: %v", err)
		}
		vs = vs[n:]
	}
	tb.Logf("loaded %d servers × %d versions in %v", servers, versions, time.Since(start).Round(time.Millisecond))
}

// Bench runs the read-path benchmarks on s, which Load(servers, versions) has seeded.
func Bench(b *testing.B, s registry.Store, servers, versions int) {
	ctx := context.Background()
	mid := servers / 2
	fail := func(b *testing.B, err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("GetVersion", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, err := s.GetVersion(ctx, registry.Key{Name: BenchName(i % servers), Version: fmt.Sprintf("1.%d.0", i%versions)})
			fail(b, err)
		}
	})
	b.Run("LatestPublished", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			v, err := s.LatestPublished(ctx, BenchName(i%servers))
			fail(b, err)
			if v.Version != fmt.Sprintf("1.%d.0", versions-1) {
				b.Fatalf("latest = %s", v.Version)
			}
		}
	})
	b.Run("LatestPublishedParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, err := s.LatestPublished(ctx, BenchName(i%servers))
				if err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})
	page := func(q registry.ListQuery) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				vs, _, err := s.ListVersionsPage(ctx, q)
				fail(b, err)
				if len(vs) == 0 {
					b.Fatal("empty page")
				}
			}
		}
	}
	cursor := &registry.Key{Name: BenchName(mid), Version: "1.0.0"}
	b.Run("ListVersionsPage100", page(registry.ListQuery{Limit: 100}))
	b.Run("ListVersionsPage100Cursor", page(registry.ListQuery{Limit: 100, After: cursor}))
	b.Run("ListVersionsPage100LatestOnly", page(registry.ListQuery{Limit: 100, LatestOnly: true, After: cursor}))
	b.Run("ListVersionsPage100Search", page(registry.ListQuery{Limit: 100, Search: fmt.Sprintf("BENCH%04d", mid/10)}))
	b.Run("ChangeSeq", func(b *testing.B) {
		for b.Loop() {
			_, err := s.ChangeSeq(ctx)
			fail(b, err)
		}
	})
}
