package api

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/vetted-dev/vetted/registry"
)

// The response cache. Published versions are immutable, so the bytes of every response
// (one version, a server's versions, a page of the list) are computed once and served
// again until the store's ChangeSeq moves. Any change drops the whole generation: what
// changed may be a status (a quarantine), which alters lists, "latest" and isLatest flags,
// and the store does not say what changed.
//
// Freshness: ChangeSeq is read at most once per check interval per process, in the
// background while requests keep being served (see current), and at once after Invalidate.
// Entries computed from store reads that started after their generation was created are
// stored in that generation only, so an entry never outlives the change that made it stale
// by more than about one interval (staleLimit intervals at worst).

// verKey identifies a one-version response; latest ignores version.
type verKey struct {
	name, version string
	latest        bool
	deleted       bool // include_deleted (ignored for latest)
}

// serverKey identifies a server's versions response.
type serverKey struct {
	name    string
	deleted bool // include_deleted
}

// listParams are a list request's raw query parameters.
type listParams struct {
	cursor, search, updatedSince, version string
	limit                                 int
	// include_deleted, and whether the request gave it (its default depends on
	// updated_since)
	includeDeleted, includeDeletedSet bool
}

// listKey identifies a list response by its parsed, normalized query, so that spellings of
// one query (search in another ASCII case, the same instant written another way) share
// one entry and one store query.
type listKey struct {
	after        registry.Key
	hasAfter     bool
	limit        int
	search       string // ASCII-lowered: search matches ASCII letters case-insensitively
	updatedSince int64  // Unix microseconds; 0 for none
	version      string
	latest       bool
	deleted      bool // statuses beyond published (include_deleted)
}

func listKeyOf(q registry.ListQuery) listKey {
	k := listKey{limit: q.Limit, search: asciiLower(q.Search), version: q.Version, latest: q.LatestOnly, deleted: len(q.Statuses) > 0}
	if q.After != nil {
		k.after, k.hasAfter = *q.After, true
	}
	if !q.UpdatedSince.IsZero() {
		k.updatedSince = q.UpdatedSince.UnixMicro()
	}
	return k
}

// asciiLower lowers ASCII letters only (other characters match literally).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// changeSeqTimeout bounds one ChangeSeq read (callers share it, so it ignores their own
// cancellation).
const changeSeqTimeout = 5 * time.Second

type generation struct {
	seq     int64
	checked atomic.Int64 // monotonic nanoseconds (since cache.start) of the last ChangeSeq read

	mu       sync.RWMutex
	versions map[verKey]*entry
	lists    map[listKey]*entry
	servers  map[serverKey]*entry // a server's versions
	bytes    int
}

type cache struct {
	store      registry.Store
	onNewGen   func()
	interval   time.Duration
	maxBytes   int
	start      time.Time
	gen        atomic.Pointer[generation]
	flight     singleflight.Group // the ChangeSeq read
	refreshing atomic.Bool        // a background ChangeSeq read is running
	fills      singleflight.Group // computing a missing entry, by key
}

// fillTimeout bounds computing one entry (callers share it, so it ignores their own
// cancellation).
const fillTimeout = 30 * time.Second

// fill computes the entry for key once however many callers miss it at the same time, and
// stores it with put.
func (c *cache) fill(ctx context.Context, key string, compute func(context.Context) (*entry, error), put func(*entry)) (*entry, error) {
	v, err, _ := c.fills.Do(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fillTimeout)
		defer cancel()
		e, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		put(e)
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*entry), nil
}

func newCache(store registry.Store, interval time.Duration, maxBytes int) *cache {
	c := &cache{store: store, interval: interval, maxBytes: maxBytes, start: time.Now()}
	c.gen.Store(c.newGeneration(-1, -1<<62))
	return c
}

func (c *cache) newGeneration(seq int64, checked int64) *generation {
	g := &generation{
		seq:      seq,
		versions: map[verKey]*entry{},
		lists:    map[listKey]*entry{},
		servers:  map[serverKey]*entry{},
	}
	g.checked.Store(checked)
	return g
}

func (c *cache) now() int64 { return int64(time.Since(c.start)) }

// current returns the generation to read from. When the last ChangeSeq read is older than
// the interval, one background read is started and the current generation still served;
// only when it is older than staleLimit intervals (a slow or failing store, an idle process,
// or Invalidate) do readers wait for a fresh read. What is served is thus at most about one
// interval behind the store, and never more than staleLimit intervals.
func (c *cache) current(ctx context.Context) (*generation, error) {
	g := c.gen.Load()
	age := c.now() - g.checked.Load()
	if age < int64(c.interval) {
		return g, nil
	}
	if age < staleLimit*int64(c.interval) {
		if c.refreshing.CompareAndSwap(false, true) {
			go func() {
				defer c.refreshing.Store(false)
				_, _, _ = c.flight.Do("seq", func() (any, error) { return nil, c.check(context.Background()) })
			}()
		}
		return g, nil
	}
	_, err, _ := c.flight.Do("seq", func() (any, error) { return nil, c.check(ctx) })
	if err != nil {
		return nil, err
	}
	return c.gen.Load(), nil
}

// staleLimit is how many intervals old the last ChangeSeq read may be before readers wait
// for a new one.
const staleLimit = 4

// check reads ChangeSeq (unless another caller just did) and starts a new generation when it
// moved.
func (c *cache) check(ctx context.Context) error {
	g := c.gen.Load()
	if c.now()-g.checked.Load() < int64(c.interval) {
		return nil // another caller just checked
	}
	at := c.now()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), changeSeqTimeout)
	defer cancel()
	seq, err := c.store.ChangeSeq(cctx)
	if err != nil {
		return err
	}
	if seq == g.seq {
		g.checked.Store(at)
		return nil
	}
	c.gen.Store(c.newGeneration(seq, at))
	if c.onNewGen != nil {
		c.onNewGen()
	}
	return nil
}

// invalidate makes the next reader check ChangeSeq (after a local write).
func (c *cache) invalidate() {
	c.gen.Load().checked.Store(-1 << 62)
}

// version, list and server return what g holds, or nil.
func (g *generation) version(k verKey) *entry {
	g.mu.RLock()
	e := g.versions[k]
	g.mu.RUnlock()
	return e
}

func (g *generation) list(k listKey) *entry {
	g.mu.RLock()
	e := g.lists[k]
	g.mu.RUnlock()
	return e
}

func (g *generation) server(k serverKey) *entry {
	g.mu.RLock()
	e := g.servers[k]
	g.mu.RUnlock()
	return e
}

// entryOverhead is what one entry costs beyond its body, its ETag and its key's strings: the
// entry and its key as values, the map's slot and the key's string headers (about 160 bytes
// for the largest key; rounded up).
const entryOverhead = 256

// cacheKey is a key of the generation's maps.
type cacheKey interface {
	comparable
	strBytes() int // the bytes of the key's strings
}

func (k verKey) strBytes() int    { return len(k.name) + len(k.version) }
func (k serverKey) strBytes() int { return len(k.name) }
func (k listKey) strBytes() int {
	return len(k.after.Name) + len(k.after.Version) + len(k.search) + len(k.version)
}

// entrySize is what keeping e under k costs in memory: what the cache bound counts.
func entrySize[K cacheKey](k K, e *entry) int {
	return cap(e.body) + len(e.etag) + k.strBytes() + entryOverhead
}

// put stores e under k in m, accounting its size (entrySize). When the generation is full it
// is emptied first (entries are immutable and cheap to recompute; the hot ones come back).
func put[K cacheKey](c *cache, g *generation, m func(*generation) map[K]*entry, k K, e *entry) {
	size := entrySize(k, e)
	if size > c.maxBytes {
		return
	}
	g.mu.Lock()
	if g.bytes+size > c.maxBytes {
		g.versions, g.lists, g.servers, g.bytes = map[verKey]*entry{}, map[listKey]*entry{}, map[serverKey]*entry{}, 0
	}
	mm := m(g)
	if old, ok := mm[k]; ok {
		g.bytes -= entrySize(k, old)
	}
	mm[k] = e
	g.bytes += size
	g.mu.Unlock()
}

func (c *cache) putVersion(g *generation, k verKey, e *entry) {
	put(c, g, func(g *generation) map[verKey]*entry { return g.versions }, k, e)
}

func (c *cache) putList(g *generation, k listKey, e *entry) {
	put(c, g, func(g *generation) map[listKey]*entry { return g.lists }, k, e)
}

func (c *cache) putServer(g *generation, k serverKey, e *entry) {
	put(c, g, func(g *generation) map[serverKey]*entry { return g.servers }, k, e)
}
