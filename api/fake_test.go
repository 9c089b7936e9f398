package api

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// memStore is a hand-written in-memory registry.Store: the seam for the cache tests that
// need to count store calls or inject failures. The API's behavior is tested against the
// real SQLite and PostgreSQL stores.
type memStore struct {
	mu       sync.Mutex
	vs       map[registry.Key]registry.Version
	seq      int64
	calls    map[string]int
	seqErr   error
	pingErr  error
	failList error
	listGate chan struct{} // when set, ListVersionsPage waits for it to close
	seqGate  chan struct{} // when set, ChangeSeq waits for it to close
}

func newMemStore() *memStore {
	return &memStore{vs: map[registry.Key]registry.Version{}, calls: map[string]int{}}
}

func (m *memStore) count(op string) {
	m.calls[op]++
}

func (m *memStore) Calls(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

func (m *memStore) Ping(context.Context) error { return m.pingErr }
func (m *memStore) Close() error               { return nil }

func (m *memStore) CreateVersion(_ context.Context, v registry.Version) (registry.Version, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := registry.Key{Name: v.Name, Version: v.Version}
	if old, ok := m.vs[k]; ok {
		return old, false, nil
	}
	if v.Served == nil {
		v.Served = v.ServerJSON
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = v.PublishedAt
	}
	ev, err := registry.WithSeal(registry.ImportEvent(v), registry.SealOf(v, nil))
	if err != nil {
		return registry.Version{}, false, err
	}
	sealed, err := registry.SealAudit(nil, ev)
	if err != nil {
		return registry.Version{}, false, err
	}
	v.Sealed = &sealed
	m.vs[k] = v
	m.recompute(v.Name)
	m.seq++
	return m.vs[k], true, nil
}

func (m *memStore) SetStatus(_ context.Context, k registry.Key, s registry.Status, at time.Time) (registry.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vs[k]
	if !ok {
		return registry.Version{}, fmt.Errorf("%s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	v.Status, v.UpdatedAt = s, at
	m.vs[k] = v
	m.recompute(k.Name)
	m.seq++
	return m.vs[k], nil
}

func (m *memStore) recompute(name string) {
	var pub []registry.Version
	for _, v := range m.vs {
		if v.Name == name && v.Status == registry.StatusPublished {
			pub = append(pub, v)
		}
	}
	best := registry.Latest(pub)
	for k, v := range m.vs {
		if v.Name == name {
			v.IsLatest = best >= 0 && v.Status == registry.StatusPublished && v.Version == pub[best].Version
			m.vs[k] = v
		}
	}
}

func (m *memStore) GetVersion(_ context.Context, k registry.Key) (registry.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("GetVersion")
	v, ok := m.vs[k]
	if !ok {
		return registry.Version{}, fmt.Errorf("%s@%s: %w", k.Name, k.Version, registry.ErrNotFound)
	}
	return v, nil
}

func (m *memStore) LatestPublished(_ context.Context, name string) (registry.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("LatestPublished")
	for _, v := range m.vs {
		if v.Name == name && v.IsLatest {
			return v, nil
		}
	}
	return registry.Version{}, fmt.Errorf("%s: %w", name, registry.ErrNotFound)
}

func (m *memStore) ListServerVersions(_ context.Context, name string, statuses ...registry.Status) ([]registry.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("ListServerVersions")
	var out []registry.Version
	for _, v := range m.vs {
		if v.Name == name && v.Status == registry.StatusPublished {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", name, registry.ErrNotFound)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PublishedAt.Before(out[j].PublishedAt) })
	return out, nil
}

func (m *memStore) ListVersionsPage(_ context.Context, q registry.ListQuery) ([]registry.Version, bool, error) {
	if m.listGate != nil {
		<-m.listGate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("ListVersionsPage")
	if m.failList != nil {
		return nil, false, m.failList
	}
	var all []registry.Version
	for _, v := range m.vs {
		switch {
		case v.Status != registry.StatusPublished,
			q.LatestOnly && !v.IsLatest,
			q.Version != "" && v.Version != q.Version,
			q.Search != "" && !strings.Contains(strings.ToLower(v.Name), strings.ToLower(q.Search)),
			!q.UpdatedSince.IsZero() && v.UpdatedAt.Before(q.UpdatedSince),
			q.After != nil && (v.Name < q.After.Name || v.Name == q.After.Name && v.Version <= q.After.Version):
			continue
		}
		all = append(all, v)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Name != all[j].Name {
			return all[i].Name < all[j].Name
		}
		return all[i].Version < all[j].Version
	})
	if len(all) > q.Limit {
		return all[:q.Limit], true, nil
	}
	return all, false, nil
}

func (m *memStore) ChangeSeq(context.Context) (int64, error) {
	m.mu.Lock()
	gate := m.seqGate
	m.mu.Unlock()
	if gate != nil {
		<-gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("ChangeSeq")
	return m.seq, m.seqErr
}
