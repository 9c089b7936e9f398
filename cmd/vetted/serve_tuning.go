package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"

	"github.com/vetted-dev/vetted/api"
	"github.com/vetted-dev/vetted/registry/sqlstore"
)

// serveTuning are serve's resource settings and the read benchmark's switch.
type serveTuning struct {
	// CacheMB bounds the response cache (MiB; 0 disables it).
	CacheMB int
	// SearchScan makes search scan every name instead of using the index, as before issue
	// 15 (hidden: bench/read.sh measures the index against it in one run).
	SearchScan bool
	// SearchWholeTerm makes search ask the trigram index for every trigram of the term, as
	// before the trigram counts (hidden, benchmark only).
	SearchWholeTerm bool
}

func addServeTuningFlags(fl *pflag.FlagSet, t *serveTuning) {
	fl.IntVar(&t.CacheMB, "cache-mb", api.DefaultCacheBytes>>20, "response cache bound in MiB (0 disables the cache); the process needs about this much memory beyond its baseline, and the Go runtime's memory limit is set to it plus "+memoryHeadroomText+" unless GOMEMLIMIT is set")
	fl.BoolVar(&t.SearchScan, "bench-search-scan", false, "benchmark only: search by scanning every name, as before the search index")
	_ = fl.MarkHidden("bench-search-scan")
	fl.BoolVar(&t.SearchWholeTerm, "bench-search-whole-term", false, "benchmark only: search asks the index for the whole term, as before the trigram counts")
	_ = fl.MarkHidden("bench-search-whole-term")
}

// storeOptions are the store options of serve and of the benchmark's seeding.
func (t serveTuning) storeOptions(log *slog.Logger) []sqlstore.Option {
	opts := []sqlstore.Option{sqlstore.WithLogger(log)}
	if t.SearchScan {
		log.Warn("benchmark mode: search scans every server name (--bench-search-scan)")
		opts = append(opts, sqlstore.WithSearchScan())
	}
	if t.SearchWholeTerm {
		log.Warn("benchmark mode: search asks the index for the whole term (--bench-search-whole-term)")
		opts = append(opts, sqlstore.WithSearchWholeTerm())
	}
	return opts
}

// apiOptions are the API options of the settings.
func (t serveTuning) apiOptions() ([]api.Option, error) {
	if t.CacheMB < 0 {
		return nil, usageErrorf("--cache-mb %d: want 0 (no cache) or more", t.CacheMB)
	}
	return []api.Option{api.WithCacheBytes(t.CacheMB << 20)}, nil
}

// memoryHeadroom is what the Go heap may hold beyond the response cache: requests in flight,
// the store's and the server's own state, and garbage not yet collected.
const (
	memoryHeadroom     = 96 << 20
	memoryHeadroomText = "96 MiB"
)

// memoryLimit is the Go runtime's soft memory limit for a response cache of cacheMB MiB:
// without one the heap grows to twice what it holds before collecting (GOGC=100), so a full
// cache would cost about twice its bound. None when GOMEMLIMIT is set (the operator's
// choice) or the cache is off.
func memoryLimit(cacheMB int, gomemlimit string) (int64, bool) {
	if gomemlimit != "" || cacheMB <= 0 {
		return 0, false
	}
	return int64(cacheMB)<<20 + memoryHeadroom, true
}

// limitedGCPercent is the collector's target (GOGC) under serve's memory limit. With the heap
// bounded by the limit, collecting each time the heap doubles only costs CPU: an uncached
// list or search allocates about 60 KB, so while the cache was small the collector ran every
// few hundred requests (GOGC=400 gave 3 % more uncached searches per second on 2 cores). At
// 400 it runs when the heap is five times what it holds, or at the limit, whichever is first.
const limitedGCPercent = 400

// gcPercent returns the collector's target for serve: limitedGCPercent under the memory
// limit, unless the operator set GOGC; none without the limit.
func gcPercent(limited bool, gogc string) (int, bool) {
	if !limited || gogc != "" {
		return 0, false
	}
	return limitedGCPercent, true
}

// limitMemory sets the Go runtime's memory limit for the cache bound (see memoryLimit) and,
// under it, the collector's target (see gcPercent).
func (t serveTuning) limitMemory(log *slog.Logger) {
	n, ok := memoryLimit(t.CacheMB, os.Getenv("GOMEMLIMIT"))
	if !ok {
		return
	}
	debug.SetMemoryLimit(n)
	log.Debug("Go memory limit set from --cache-mb", slog.Int64("bytes", n))
	if p, ok := gcPercent(true, os.Getenv("GOGC")); ok {
		debug.SetGCPercent(p)
		log.Debug("Go collector target set under the memory limit", slog.Int("gogc", p))
	}
}
