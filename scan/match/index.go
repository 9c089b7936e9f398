package match

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unique"

	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// pkgKey identifies a package across ecosystem variants: base ecosystem and normalised name.
type pkgKey struct{ eco, name string }

func keyOf(ecosystem, name string) pkgKey {
	base, _, _ := strings.Cut(ecosystem, ":")
	if base == "PyPI" {
		name = sbom.NormalizePyPIName(name)
	}
	return pkgKey{eco: base, name: name}
}

// vuln is what the index keeps of one OSV record.
type vuln struct {
	id       string
	aliases  []string
	summary  string
	modified string
	severity Severity // record-level severity (CVSS or database_specific)
	hash     [32]byte // of the raw record, to tell changed records apart
	keys     []pkgKey // packages the record names
}

// entry is one affected[] block. Its ranges and versions are kept as strings and compiled
// (parsed in the ecosystem's version order) on first use: most entries are never used by a
// given deployment, and parsed versions cost several times their text.
type entry struct {
	vuln      *vuln
	ecosystem string // full ecosystem, with any ":suffix"
	raw       []rawRange
	versions  []string
	severity  Severity // affected-level CVSS, if any
	hasSev    bool
	once      sync.Once
	ranges    []compiledRange // compiled from raw on first use
	parsedVer []parsedVersion // versions, parsed and sorted on first use
	unparsed  []string        // versions that do not parse, compared as strings
}

// rawRange is an ECOSYSTEM or SEMVER range as text.
type rawRange struct {
	semver bool
	events []rawEvent
}

type rawEvent struct {
	kind eventKind
	v    string
}

// compile parses the entry's ranges and versions list once.
func (e *entry) compile() {
	e.once.Do(func() {
		for _, r := range e.raw {
			e.ranges = append(e.ranges, compileRange(r, e.ecosystem))
		}
		e.parsedVer, e.unparsed = parseVersions(e.versions, e.ecosystem)
	})
}

// Index is an in-memory, read-only index of one snapshot. It is safe for concurrent use.
type Index struct {
	snapshotID string
	covered    map[string]bool // ecosystem names the snapshot covers (full and base)
	byPkg      map[pkgKey][]*entry
	vulns      map[string]*vuln
	invalid    int // records skipped as invalid
	withdrawn  int
}

// Option configures Build.
type Option func(*buildConfig) error

type buildConfig struct {
	logger  *slog.Logger
	workers int
	strict  bool
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *buildConfig) error {
		if l == nil {
			return errors.New("match: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithWorkers sets how many goroutines decode records (default: GOMAXPROCS).
func WithWorkers(n int) Option {
	return func(c *buildConfig) error {
		if n < 1 {
			return fmt.Errorf("match: workers must be ≥ 1, got %d", n)
		}
		c.workers = n
		return nil
	}
}

// WithStrictRecords makes Build fail on the first invalid record instead of skipping it.
func WithStrictRecords() Option {
	return func(c *buildConfig) error { c.strict = true; return nil }
}

// Build reads every record of the snapshot and indexes it.
func Build(ctx context.Context, snap *osv.Snapshot, opts ...Option) (*Index, error) {
	cfg := buildConfig{logger: slog.New(slog.DiscardHandler), workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	idx := &Index{
		snapshotID: snap.ID(),
		covered:    map[string]bool{},
		byPkg:      map[pkgKey][]*entry{},
		vulns:      map[string]*vuln{},
	}
	for _, e := range snap.Ecosystems() {
		idx.covered[e] = true
	}

	type part struct {
		slab      slab
		vulns     []*vuln
		entries   map[pkgKey][]*entry
		invalid   int
		withdrawn int
	}
	parts := make([]part, cfg.workers)
	for w := range parts {
		parts[w].entries = map[pkgKey][]*entry{}
	}
	err := snap.WalkParallel(ctx, cfg.workers, func(w int, e osv.Entry) error {
		p := &parts[w]
		rec, err := osv.DecodeRecord(e.Data)
		if err != nil {
			if cfg.strict {
				return fmt.Errorf("match: %s: %w", e.Source, err)
			}
			p.invalid++
			cfg.logger.Warn("skipping invalid OSV record", "source", e.Source, "error", err)
			return nil
		}
		if rec.IsWithdrawn() {
			p.withdrawn++
			return nil
		}
		v, entries := compileRecord(rec, sha256.Sum256(e.Data), &p.slab)
		p.vulns = append(p.vulns, v)
		for _, en := range entries {
			k := keyOf(en.ecosystem, en.nameForKey)
			p.entries[k] = append(p.entries[k], en.entry)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("match: reading snapshot %s: %w", snap.ID(), err)
	}
	for _, p := range parts {
		idx.invalid += p.invalid
		idx.withdrawn += p.withdrawn
		for _, v := range p.vulns {
			if old, dup := idx.vulns[v.id]; dup && old.modified >= v.modified {
				// The same id in two places (an archive and a loose file): the newer wins.
				continue
			}
			idx.vulns[v.id] = v
		}
	}
	for _, p := range parts {
		for k, es := range p.entries {
			for _, e := range es {
				if idx.vulns[e.vuln.id] == e.vuln {
					idx.byPkg[k] = append(idx.byPkg[k], e)
				}
			}
		}
	}
	// Decoding produced several times the index in garbage; give it back to the OS now rather
	// than keep it resident until the scavenger gets to it.
	debug.FreeOSMemory()
	cfg.logger.Info("OSV index built", "snapshot", idx.snapshotID, "records", len(idx.vulns),
		"invalid", idx.invalid, "withdrawn", idx.withdrawn)
	return idx, nil
}

// SnapshotID is the id of the snapshot the index was built from.
func (x *Index) SnapshotID() string { return x.snapshotID }

// Records is the number of (non-withdrawn, valid) records indexed.
func (x *Index) Records() int { return len(x.vulns) }

// Skipped returns how many records were skipped as invalid and as withdrawn.
func (x *Index) Skipped() (invalid, withdrawn int) { return x.invalid, x.withdrawn }

// Covers reports whether the snapshot covers the package's ecosystem.
func (x *Index) Covers(ecosystem string) bool {
	if x.covered[ecosystem] {
		return true
	}
	base, _, _ := strings.Cut(ecosystem, ":")
	return x.covered[base]
}

type namedEntry struct {
	entry      *entry
	ecosystem  string
	nameForKey string
}

// slab hands out the index's long-lived objects from large chunks, so that they sit together
// instead of among the decoder's garbage (which would keep half-empty pages resident).
// One per build worker; not safe for concurrent use.
type slab struct {
	vulns   []vuln
	entries []entry
	strs    []string
	events  []rawEvent
	ranges  []rawRange
}

const slabChunk = 4096

func (s *slab) vuln() *vuln {
	if len(s.vulns) == 0 {
		s.vulns = make([]vuln, slabChunk)
	}
	v := &s.vulns[0]
	s.vulns = s.vulns[1:]
	return v
}

func (s *slab) entry() *entry {
	if len(s.entries) == 0 {
		s.entries = make([]entry, slabChunk/4)
	}
	e := &s.entries[0]
	s.entries = s.entries[1:]
	return e
}

// strings returns a zeroed []string of length n with no spare capacity.
func (s *slab) strings(n int) []string {
	if n > slabChunk/4 {
		return make([]string, n)
	}
	if len(s.strs) < n {
		s.strs = make([]string, slabChunk*4)
	}
	out := s.strs[:n:n]
	s.strs = s.strs[n:]
	return out
}

func (s *slab) rawEvents(n int) []rawEvent {
	if n > 64 {
		return make([]rawEvent, 0, n)
	}
	if len(s.events) < n {
		s.events = make([]rawEvent, slabChunk)
	}
	out := s.events[:0:n]
	s.events = s.events[n:]
	return out
}

func (s *slab) rawRanges(n int) []rawRange {
	if n > 64 {
		return make([]rawRange, 0, n)
	}
	if len(s.ranges) < n {
		s.ranges = make([]rawRange, slabChunk)
	}
	out := s.ranges[:0:n]
	s.ranges = s.ranges[n:]
	return out
}

func compileRecord(rec *osv.Record, hash [32]byte, sl *slab) (*vuln, []namedEntry) {
	if sl == nil {
		sl = &slab{}
	}
	v := sl.vuln()
	*v = vuln{
		id:       rec.ID,
		aliases:  append(sl.strings(len(rec.Aliases))[:0], rec.Aliases...),
		summary:  rec.Summary,
		modified: rec.Modified,
		hash:     hash,
	}
	if v.summary == "" {
		v.summary = strings.Clone(firstLine(rec.Details, 200)) // do not keep the details alive
	}
	v.severity = severityOf(rec.Severity, rec.DatabaseSpecific)
	var out []namedEntry
	seen := map[pkgKey]bool{}
	for _, a := range rec.Affected {
		if a.Package.Name == "" || a.Package.Ecosystem == "" {
			continue
		}
		e := sl.entry()
		e.vuln, e.ecosystem = v, intern(a.Package.Ecosystem)
		if len(a.Versions) > 0 {
			e.versions = sl.strings(len(a.Versions)) // exact size: lists are long and many
			for i, s := range a.Versions {
				e.versions[i] = intern(s)
			}
		}
		if len(a.Severity) > 0 {
			e.severity = severityOf(a.Severity)
			e.hasSev = e.severity.Level != LevelUnknown
		}
		if !e.hasSev && v.severity.Level == LevelUnknown {
			if s := severityOf(nil, a.DatabaseSpecific, a.EcosystemSpecific); s.Level != LevelUnknown {
				e.severity, e.hasSev = s, true
			}
		}
		e.raw = sl.rawRanges(len(a.Ranges))
		for _, r := range a.Ranges {
			if r.Type == osv.RangeGit {
				continue // commits, not versions: never matched by version
			}
			rr := rawRange{semver: r.Type == osv.RangeSemver, events: sl.rawEvents(len(r.Events))}
			for _, ev := range r.Events {
				switch {
				case ev.Introduced != "":
					rr.events = append(rr.events, rawEvent{evIntroduced, intern(ev.Introduced)})
				case ev.Fixed != "":
					rr.events = append(rr.events, rawEvent{evFixed, intern(ev.Fixed)})
				case ev.LastAffected != "":
					rr.events = append(rr.events, rawEvent{evLastAffected, intern(ev.LastAffected)})
				case ev.Limit != "":
					rr.events = append(rr.events, rawEvent{evLimit, intern(ev.Limit)})
				}
			}
			e.raw = append(e.raw, rr)
		}
		out = append(out, namedEntry{entry: e, ecosystem: a.Package.Ecosystem, nameForKey: a.Package.Name})
		k := keyOf(a.Package.Ecosystem, a.Package.Name)
		if !seen[k] {
			seen[k] = true
			v.keys = append(v.keys, k)
		}
	}
	return v, out
}

// intern returns the canonical copy of s: version strings repeat across many records.
func intern(s string) string { return unique.Make(s).Value() }

func firstLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
