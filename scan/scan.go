package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/report"
	"github.com/vetted-dev/vetted/scan/sbom"
	"github.com/vetted-dev/vetted/scan/vex"
)

// Request is what one scan is about besides the SBOM itself.
type Request struct {
	Source  string         // where the SBOM came from (file name, digest), for the report
	Product *vex.Product   // what VEX statements must name to apply
	VEX     *vex.Set       // exceptions; nil for none
	Policy  *report.Policy // nil: report only, never fail
}

// Scanner scans SBOMs against one index. It is safe for concurrent use.
type Scanner struct {
	index  *match.Index
	now    func() time.Time
	limits sbom.Limits
}

// Option configures a Scanner.
type Option func(*Scanner) error

// WithClock sets the clock used for VEX expiry and the report time (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Scanner) error {
		if now == nil {
			return errors.New("scan: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithSBOMLimits overrides the SBOM size, nesting and package-count limits.
func WithSBOMLimits(l sbom.Limits) Option {
	return func(s *Scanner) error {
		if l.MaxBytes <= 0 || l.MaxDepth <= 0 {
			return fmt.Errorf("scan: SBOM limits must be positive, got %+v", l)
		}
		s.limits = l
		return nil
	}
}

// NewScanner returns a Scanner over the index.
func NewScanner(idx *match.Index, opts ...Option) (*Scanner, error) {
	if idx == nil {
		return nil, errors.New("scan: nil index")
	}
	s := &Scanner{index: idx, now: time.Now, limits: sbom.DefaultLimits}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Scan decodes the SBOM and scans it. It returns the decoded document too: store its
// Packages to re-scan later without the SBOM.
func (s *Scanner) Scan(ctx context.Context, r io.Reader, req Request) (*report.Report, *sbom.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	doc, err := sbom.DecodeWithLimits(r, s.limits)
	if err != nil {
		return nil, nil, err
	}
	return s.ScanPackages(doc, req), doc, nil
}

// ScanPackages scans an already extracted package list (a stored Document).
func (s *Scanner) ScanPackages(doc *sbom.Document, req Request) *report.Report {
	res := s.index.Match(doc.Packages)
	return report.Build(report.Input{
		Result: res, Document: doc, Source: req.Source, Product: req.Product,
		VEX: req.VEX, Policy: req.Policy, Now: s.now(),
	})
}

// OpenIndex opens the mirror's current snapshot and indexes it.
func OpenIndex(ctx context.Context, dir string, opts ...match.Option) (*match.Index, error) {
	snap, err := osv.Open(dir)
	if err != nil {
		return nil, err
	}
	return match.Build(ctx, snap, opts...)
}

// Mirror keeps the index of a mirror directory's current snapshot and swaps in a new one when
// the snapshot changes. Readers never wait for a reload.
type Mirror struct {
	dir    string
	opts   []match.Option
	logger *slog.Logger
	cur    atomic.Pointer[match.Index]
	mu     sync.Mutex // serialises reloads
}

// OpenMirror indexes the mirror's current snapshot.
func OpenMirror(ctx context.Context, dir string, logger *slog.Logger, opts ...match.Option) (*Mirror, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	idx, err := OpenIndex(ctx, dir, opts...)
	if err != nil {
		return nil, err
	}
	m := &Mirror{dir: dir, opts: opts, logger: logger}
	m.cur.Store(idx)
	return m, nil
}

// Current is the index of the snapshot in use.
func (m *Mirror) Current() *match.Index { return m.cur.Load() }

// Reload re-reads the mirror. When its snapshot changed, it indexes the new one, swaps it in
// and returns the delta from the old one (for the re-scan); otherwise it returns nil. On error
// the current index stays in use.
func (m *Mirror) Reload(ctx context.Context) (*match.Delta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	snap, err := osv.Open(m.dir)
	if err != nil {
		return nil, err
	}
	old := m.cur.Load()
	if snap.ID() == old.SnapshotID() {
		return nil, nil
	}
	idx, err := match.Build(ctx, snap, m.opts...)
	if err != nil {
		return nil, err
	}
	m.cur.Store(idx)
	m.logger.Info("OSV snapshot swapped in", "old", old.SnapshotID(), "new", idx.SnapshotID())
	return match.Diff(old, idx), nil
}
