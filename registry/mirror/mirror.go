package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/registry/pkg/model"

	"github.com/vetted-dev/vetted/registry"
)

// Publisher is the publish pipeline (*registry.Pipeline): Publish records, Evaluate only
// decides (a dry run).
type Publisher interface {
	Publish(ctx context.Context, req registry.PublishRequest) (registry.PublishResult, error)
	Evaluate(ctx context.Context, req registry.PublishRequest) (*registry.Evaluation, error)
}

// Store is what curation needs from storage.
type Store interface {
	registry.MirrorStore
	GetVersion(ctx context.Context, k registry.Key) (registry.Version, error)
	Transition(ctx context.Context, t registry.Transition) (registry.Version, error)
}

// Limits bound one run. Zero fields take the defaults.
type Limits struct {
	PageSize       int           `json:"page_size,omitempty"`       // entries asked per page (1–100; default 100)
	MaxPages       int           `json:"max_pages,omitempty"`       // pages per run (default 100)
	MaxEntries     int           `json:"max_entries,omitempty"`     // entries per run (default 2000)
	MaxPageBytes   int64         `json:"max_page_bytes,omitempty"`  // bytes of one page (default 8 MiB)
	RequestTimeout time.Duration `json:"request_timeout,omitempty"` // one page request (default 30s)
	MaxDuration    time.Duration `json:"max_duration,omitempty"`    // a run stops taking new entries after it (default 10m)
}

// DefaultLimits are the bounds of a run when none are configured.
var DefaultLimits = Limits{PageSize: 100, MaxPages: 100, MaxEntries: 2000, MaxPageBytes: 8 << 20,
	RequestTimeout: 30 * time.Second, MaxDuration: 10 * time.Minute}

func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits
	if l.PageSize < 0 || l.PageSize > 100 || l.MaxPages < 0 || l.MaxEntries < 0 || l.MaxPageBytes < 0 || l.RequestTimeout < 0 || l.MaxDuration < 0 {
		return Limits{}, fmt.Errorf("mirror limits %+v: negative, or page_size above 100 (the v0.1 API's maximum): %w", l, registry.ErrInvalid)
	}
	if l.PageSize > 0 {
		d.PageSize = l.PageSize
	}
	if l.MaxPages > 0 {
		d.MaxPages = l.MaxPages
	}
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxPageBytes > 0 {
		d.MaxPageBytes = l.MaxPageBytes
	}
	if l.RequestTimeout > 0 {
		d.RequestTimeout = l.RequestTimeout
	}
	if l.MaxDuration > 0 {
		d.MaxDuration = l.MaxDuration
	}
	return d, nil
}

// Config configures a Mirror of one upstream.
type Config struct {
	Upstream string
	Curation Curation
	Limits   Limits
	// Client makes every upstream request: the outbound guard's (netguard.Guard.Client).
	Client *http.Client
	// Pipeline decides each candidate; its verifier holds the curation policies (one attest
	// policy per namespace pattern).
	Pipeline Publisher
	Store    Store
	// Metrics, when set, counts the outcomes.
	Metrics *Metrics
	Clock   func() time.Time
	Log     *slog.Logger
}

// Mirror curates one upstream registry.
type Mirror struct {
	upstream string
	cur      Curation
	limits   Limits
	client   *http.Client
	pipe     Publisher
	store    Store
	metrics  *Metrics
	clock    func() time.Time
	log      *slog.Logger
}

// New returns a Mirror of c.Upstream.
func New(c Config) (*Mirror, error) {
	up, err := ParseUpstream(c.Upstream)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w: %w", err, registry.ErrInvalid)
	}
	if err := c.Curation.Validate(); err != nil {
		return nil, err
	}
	lim, err := c.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	if c.Client == nil || c.Pipeline == nil || c.Store == nil {
		return nil, fmt.Errorf("mirror: an HTTP client, a pipeline and a store are required: %w", registry.ErrInvalid)
	}
	m := &Mirror{upstream: up, cur: c.Curation, limits: lim, client: c.Client, pipe: c.Pipeline, store: c.Store,
		metrics: c.Metrics, clock: c.Clock, log: c.Log}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return m, nil
}

// Upstream is the upstream's base URL, as normalized.
func (m *Mirror) Upstream() string { return m.upstream }

// Actor is who the audit chain says published, held, rejected or quarantined a version on
// the mirror's behalf: "mirror|<upstream URL>".
func (m *Mirror) Actor() string { return "mirror|" + m.upstream }

// JobName is the name the run is claimed under, once across replicas.
func (m *Mirror) JobName() string { return "mirror:" + m.upstream }

// Outcomes of one upstream entry (Entry.Outcome).
const (
	OutcomePublished   = "published"      // through the pipeline, published
	OutcomeHeld        = "pending_review" // through the pipeline, waiting for a reviewer
	OutcomeRejected    = "rejected"       // through the pipeline, rejected (nothing stored)
	OutcomeUnchanged   = "unchanged"      // already recorded as the upstream serves it
	OutcomeRefused     = "refused"        // not accepted at all: changed content of a stored version (immutability), a malformed server.json
	OutcomeQuarantined = "quarantined"    // deleted upstream: the local copy is quarantined pending review
	OutcomeSkipped     = "skipped"        // not a candidate of the curation list
	OutcomeFailed      = "failed"         // an operational error; retried by the next run
)

// Outcomes lists every outcome, in report order.
var Outcomes = []string{OutcomePublished, OutcomeHeld, OutcomeRejected, OutcomeUnchanged, OutcomeRefused, OutcomeQuarantined, OutcomeSkipped, OutcomeFailed}

// Entry is what one run did with one upstream version.
type Entry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// UpstreamStatus is the upstream's official status: active, deprecated or deleted.
	UpstreamStatus string `json:"upstreamStatus"`
	Outcome        string `json:"outcome"`
	Reason         string `json:"reason,omitempty"`
	// Checks are the pipeline's checks that did not pass (for held and rejected versions).
	Checks []registry.Check `json:"checks,omitempty"`

	sent bool // went to the pipeline (counts as new)
}

// Report is what one run did (docs/mirror.md documents it; the JSON is stable).
type Report struct {
	Upstream string `json:"upstream"`
	DryRun   bool   `json:"dryRun"`
	// Since is the high-water mark the run started from (absent: everything was asked for).
	Since *time.Time `json:"since,omitempty"`
	// HighWater is the mark after the run (absent: no pass has completed yet).
	HighWater *time.Time `json:"highWater,omitempty"`
	// Complete: the run reached the end of the upstream's list. When false a bound (pages,
	// entries, time) or an error stopped it, and the next run resumes where it stopped.
	Complete bool      `json:"complete"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Pages    int       `json:"pages"`
	// Fetched = entries received; New = candidates not recorded before (sent to the
	// pipeline): New = Published + Held + Rejected (+ Failed among them).
	Fetched     int     `json:"fetched"`
	New         int     `json:"new"`
	Published   int     `json:"published"`
	Held        int     `json:"held"`
	Rejected    int     `json:"rejected"`
	Unchanged   int     `json:"unchanged"`
	Refused     int     `json:"refused"`
	Quarantined int     `json:"quarantined"`
	Skipped     int     `json:"skipped"`
	Failed      int     `json:"failed"`
	Entries     []Entry `json:"entries"`
	// Error is why the run stopped early, if it did.
	Error string `json:"error,omitempty"`
}

func (r *Report) count(e Entry) {
	r.Entries = append(r.Entries, e)
	switch e.Outcome {
	case OutcomePublished:
		r.Published++
	case OutcomeHeld:
		r.Held++
	case OutcomeRejected:
		r.Rejected++
	case OutcomeUnchanged:
		r.Unchanged++
	case OutcomeRefused:
		r.Refused++
	case OutcomeQuarantined:
		r.Quarantined++
	case OutcomeSkipped:
		r.Skipped++
	case OutcomeFailed:
		r.Failed++
	}
}

// Run runs one pass (or resumes one) over what the upstream changed since the high-water
// mark, and records where it stopped. With dryRun, the pipeline only evaluates and nothing
// is recorded (not the versions, not the checkpoint). The report is returned with any
// error that stopped the run early.
func (m *Mirror) Run(ctx context.Context, dryRun bool) (*Report, error) {
	start := m.clock().UTC()
	rep := &Report{Upstream: m.upstream, DryRun: dryRun, Started: start, Entries: []Entry{}}
	cp, err := m.store.MirrorCheckpoint(ctx, m.upstream)
	if errors.Is(err, registry.ErrNotFound) {
		cp, err = registry.MirrorCheckpoint{Upstream: m.upstream}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", m.upstream, err)
	}
	since, cursor, passMax := cp.HighWater, cp.Cursor, cp.PassMax
	if !since.IsZero() {
		rep.Since = &since
	}
	deadline := start.Add(m.limits.MaxDuration)
	failedBefore := false
	var runErr error
	for {
		if rep.Pages >= m.limits.MaxPages || rep.Fetched >= m.limits.MaxEntries || !m.clock().Before(deadline) {
			break
		}
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		p, err := m.fetchPage(ctx, since, cursor)
		if err != nil {
			runErr = err
			break
		}
		rep.Pages++
		stopped := false
		for _, e := range p.Servers {
			if rep.Fetched >= m.limits.MaxEntries || !m.clock().Before(deadline) || ctx.Err() != nil {
				stopped = true // this page is taken again from its cursor: what was done is unchanged then
				break
			}
			rep.Fetched++
			if off := e.Meta.Official; off != nil && off.UpdatedAt.After(passMax) {
				passMax = off.UpdatedAt.UTC()
			}
			en := m.process(ctx, e, dryRun)
			if en.Outcome == OutcomeFailed {
				failedBefore = true
			}
			rep.count(en)
			m.metrics.add(m.upstream, en.Outcome)
		}
		if stopped {
			break
		}
		cursor = p.Metadata.NextCursor
		if cursor == "" {
			rep.Complete = true
			break
		}
	}
	for _, e := range rep.Entries {
		if e.sent {
			rep.New++
		}
	}
	next := registry.MirrorCheckpoint{Upstream: m.upstream, HighWater: since, Cursor: cursor, PassMax: passMax}
	switch {
	case failedBefore:
		// Something failed: the whole pass runs again next time, from the same mark (what
		// succeeded is unchanged then), so that the mark never moves past a failed entry.
		next.Cursor, next.PassMax = "", time.Time{}
	case rep.Complete:
		if passMax.After(since) {
			next.HighWater = passMax
		}
		next.Cursor, next.PassMax = "", time.Time{}
	}
	if !next.HighWater.IsZero() {
		hw := next.HighWater
		rep.HighWater = &hw
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	rep.Finished = m.clock().UTC()
	m.metrics.run(m.upstream, rep)
	if dryRun {
		return rep, runErr
	}
	raw, err := json.Marshal(summary(rep))
	if err == nil {
		next.Report, next.UpdatedAt = raw, rep.Finished
		err = m.store.SaveMirrorCheckpoint(context.WithoutCancel(ctx), next)
	}
	if err != nil {
		return rep, errors.Join(runErr, fmt.Errorf("mirror %s: save the checkpoint: %w", m.upstream, err))
	}
	m.log.Info("mirror run", slog.String("upstream", m.upstream), slog.Bool("complete", rep.Complete),
		slog.Int("fetched", rep.Fetched), slog.Int("new", rep.New), slog.Int("published", rep.Published),
		slog.Int("held", rep.Held), slog.Int("rejected", rep.Rejected), slog.Int("unchanged", rep.Unchanged),
		slog.Int("refused", rep.Refused), slog.Int("quarantined", rep.Quarantined), slog.Int("failed", rep.Failed))
	return rep, runErr
}

// summary is the report without its entries, as the checkpoint keeps it.
func summary(r *Report) Report {
	s := *r
	s.Entries = nil
	return s
}

// process decides what to do with one upstream entry.
func (m *Mirror) process(ctx context.Context, e entry, dryRun bool) Entry {
	var id struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	en := Entry{UpstreamStatus: string(model.StatusActive)}
	var updated time.Time
	latest := false
	if off := e.Meta.Official; off != nil {
		if off.Status != "" {
			en.UpstreamStatus = string(off.Status)
		}
		updated, latest = off.UpdatedAt.UTC(), off.IsLatest
	}
	if err := json.Unmarshal(e.Server, &id); err != nil || id.Name == "" || id.Version == "" {
		en.Outcome, en.Reason = OutcomeRefused, "the upstream entry has no server.json with a name and a version"
		return en
	}
	en.Name, en.Version = id.Name, id.Version
	key := registry.Key{Name: id.Name, Version: id.Version}
	if !m.cur.Names(id.Name) {
		en.Outcome, en.Reason = OutcomeSkipped, "not named by the curation list"
		return en
	}
	cd, err := registry.CanonicalContentDigest(e.Server)
	if err != nil {
		en.Outcome, en.Reason = OutcomeRefused, "the upstream's server.json is not valid JSON: "+err.Error()
		return en
	}
	local, err := m.store.GetVersion(ctx, key)
	found := err == nil
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		en.Outcome, en.Reason = OutcomeFailed, "look up the local version: "+err.Error()
		return en
	}
	if en.UpstreamStatus == string(model.StatusDeleted) {
		return m.deleted(ctx, e, en, local, found, cd, dryRun)
	}
	if why := m.cur.why(id.Name, e.Server, latest); why != "" {
		en.Outcome, en.Reason = OutcomeSkipped, why
		return en
	}
	if found {
		if local.ContentDigest != cd {
			en.Outcome = OutcomeRefused
			en.Reason = fmt.Sprintf("the upstream changed the content of %s@%s (stored %s, upstream %s): versions are immutable; the stored version stays",
				id.Name, id.Version, local.ContentDigest, cd)
			m.log.Warn("mirror: upstream changed an existing version", slog.String("upstream", m.upstream),
				slog.String("server", id.Name), slog.String("version", id.Version))
			m.record(ctx, dryRun, key, cd, updated, OutcomeRefused)
			return en
		}
		en.Outcome, en.Reason = OutcomeUnchanged, "stored with the same content ("+string(local.Status)+")"
		return en
	}
	if prev, err := m.store.MirrorEntry(ctx, m.upstream, key); err == nil && prev.Outcome == OutcomeRejected &&
		prev.ContentDigest == cd && prev.UpstreamUpdatedAt.Equal(updated) {
		en.Outcome, en.Reason = OutcomeUnchanged, "rejected before, and the upstream has not changed it since"
		return en
	}
	req := registry.PublishRequest{ServerJSON: e.Server, Actor: m.Actor(),
		Authorizer: registry.AuthorizerFunc(func(name string) error {
			if !m.cur.Names(name) {
				return fmt.Errorf("%s is not named by the curation list of %s", name, m.upstream)
			}
			return nil
		})}
	var dec registry.Decision
	var checks []registry.Check
	en.sent = true
	if dryRun {
		ev, err := m.pipe.Evaluate(ctx, req)
		if err != nil {
			return m.pipelineError(en, err)
		}
		dec, checks = ev.Decision, ev.Checks
	} else {
		res, err := m.pipe.Publish(ctx, req)
		if err != nil {
			return m.pipelineError(en, err)
		}
		dec, checks = res.Decision, res.Checks
	}
	switch dec {
	case registry.DecisionPublished:
		en.Outcome = OutcomePublished
	case registry.DecisionPendingReview:
		en.Outcome = OutcomeHeld
	default:
		en.Outcome = OutcomeRejected
	}
	for _, c := range checks {
		if c.Outcome != registry.Pass {
			en.Checks = append(en.Checks, c)
		}
	}
	if en.Outcome != OutcomePublished {
		en.Reason = "the pipeline decided " + string(dec)
	}
	m.record(ctx, dryRun, key, cd, updated, en.Outcome)
	return en
}

func (m *Mirror) pipelineError(en Entry, err error) Entry {
	switch {
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrForbidden), errors.Is(err, registry.ErrConflict):
		en.Outcome = OutcomeRefused
	default:
		en.Outcome = OutcomeFailed
	}
	en.Reason = err.Error()
	return en
}

// deleted handles an upstream deletion: a published local copy with the same content is
// quarantined pending review (a reviewer may release it); anything else is left as it is.
func (m *Mirror) deleted(ctx context.Context, e entry, en Entry, local registry.Version, found bool, cd string, dryRun bool) Entry {
	msg := ""
	if off := e.Meta.Official; off != nil && off.StatusMessage != nil {
		msg = *off.StatusMessage
		if len(msg) > 300 {
			msg = msg[:300]
		}
	}
	switch {
	case !found:
		en.Outcome, en.Reason = OutcomeSkipped, "deleted upstream and not held here"
		return en
	case local.ContentDigest != cd:
		en.Outcome, en.Reason = OutcomeUnchanged, "deleted upstream, but the version held here has other content; left as it is"
		return en
	case local.Status == registry.StatusQuarantined:
		en.Outcome, en.Reason = OutcomeUnchanged, "deleted upstream; already quarantined"
		return en
	case local.Status != registry.StatusPublished:
		en.Outcome, en.Reason = OutcomeUnchanged, "deleted upstream; not served here ("+string(local.Status)+")"
		return en
	}
	en.Outcome, en.Reason = OutcomeQuarantined, "deleted upstream: quarantined pending review"
	if msg != "" {
		en.Reason += " (upstream: " + msg + ")"
	}
	if dryRun {
		return en
	}
	now := m.clock().UTC()
	data, _ := json.Marshal(map[string]string{"action": "quarantine", "from": string(registry.StatusPublished),
		"to": string(registry.StatusQuarantined), "reason": "deleted at the upstream registry", "upstream": m.upstream,
		"upstreamStatusMessage": msg})
	key := registry.Key{Name: en.Name, Version: en.Version}
	_, err := m.store.Transition(ctx, registry.Transition{Key: key, From: []registry.Status{registry.StatusPublished},
		To: registry.StatusQuarantined, At: now,
		Audit: registry.AuditEvent{Time: now, Type: registry.AuditQuarantine, Actor: m.Actor(), Subject: key.Name + "@" + key.Version, Data: data}})
	switch {
	case errors.Is(err, registry.ErrConflict):
		en.Outcome, en.Reason = OutcomeUnchanged, "deleted upstream; its status changed here meanwhile: "+err.Error()
		return en
	case err != nil:
		en.Outcome, en.Reason = OutcomeFailed, "quarantine: "+err.Error()
		return en
	}
	m.log.Warn("mirror: version deleted upstream quarantined", slog.String("upstream", m.upstream),
		slog.String("server", key.Name), slog.String("version", key.Version))
	var updated time.Time
	if off := e.Meta.Official; off != nil {
		updated = off.UpdatedAt.UTC()
	}
	m.record(ctx, dryRun, key, cd, updated, OutcomeQuarantined)
	return en
}

// record remembers what was done with an upstream version (best effort: the version's
// own state is what the next run reads first).
func (m *Mirror) record(ctx context.Context, dryRun bool, k registry.Key, cd string, updated time.Time, outcome string) {
	if dryRun {
		return
	}
	err := m.store.RecordMirrorEntry(context.WithoutCancel(ctx), registry.MirrorEntry{Upstream: m.upstream, Key: k,
		ContentDigest: cd, UpstreamUpdatedAt: updated, Outcome: outcome, At: m.clock().UTC()})
	if err != nil {
		m.log.Warn("mirror: record the entry", slog.String("server", k.Name), slog.String("version", k.Version), slog.String("error", err.Error()))
	}
}
