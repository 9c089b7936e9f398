package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DeskStore is what the security team's desk needs from storage: reading versions and their
// records, changing statuses with an audit event in the same transaction, the audit chain,
// and the VEX documents.
type DeskStore interface {
	GetVersion(ctx context.Context, k Key) (Version, error)
	ListVersionsPage(ctx context.Context, q ListQuery) (page []Version, more bool, err error)
	VersionRecord(ctx context.Context, k Key) (VersionRecord, error)
	AuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error)
	Transition(ctx context.Context, t Transition) (Version, error)
	VEXStore
	ExceptionStore
	StatusCounter
	ReportLister
}

// Desk is the security team's workspace: the review queue, review decisions, hand-made
// quarantine and release, scan reports with the current VEX statements applied, VEX
// documents and the audit log. Every action it takes names an actor and a reason and is
// recorded in the audit chain in the same transaction as its effect.
type Desk struct {
	store  DeskStore
	clock  func() time.Time
	rescan func(ctx context.Context) error
	vouch  func(ctx context.Context, k Key) ([]byte, error)
	log    *slog.Logger
	rej    rejectionTally
}

// DeskOption configures a Desk.
type DeskOption func(*Desk) error

// WithDeskClock injects the time source (default time.Now).
func WithDeskClock(now func() time.Time) DeskOption {
	return func(d *Desk) error {
		if now == nil {
			return errors.New("desk: nil clock")
		}
		d.clock = now
		return nil
	}
}

// WithDeskRescan sets what runs after a VEX document is recorded or withdrawn so that its
// effect on quarantine state is immediate (typically (*Monitor).RescanAll). Reports served
// by the desk apply the current VEX statements whatever this does.
func WithDeskRescan(fn func(ctx context.Context) error) DeskOption {
	return func(d *Desk) error { d.rescan = fn; return nil }
}

// WithDeskVouch sets how the registry's signed attestation (VSA) of a version approved out
// of pending_review is made (typically VouchFor with the registry's key). It returns nil, nil
// when the registry signs nothing; an error fails the approval: the registry never publishes
// what it could not vouch for.
func WithDeskVouch(fn func(ctx context.Context, k Key) ([]byte, error)) DeskOption {
	return func(d *Desk) error { d.vouch = fn; return nil }
}

// WithDeskLogger logs to l (default: discard).
func WithDeskLogger(l *slog.Logger) DeskOption {
	return func(d *Desk) error {
		if l == nil {
			return errors.New("desk: nil logger")
		}
		d.log = l
		return nil
	}
}

// NewDesk returns a Desk over store.
func NewDesk(store DeskStore, opts ...DeskOption) (*Desk, error) {
	if store == nil {
		return nil, errors.New("desk: nil store")
	}
	d := &Desk{store: store, clock: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		if err := o(d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// MaxReasonBytes bounds a reviewer's reason.
const MaxReasonBytes = 4096

// Action is one reviewer action on a version.
type Action struct {
	Key Key
	// Actor is who acts ("<issuer>|<subject>"); Reason why, in their words. Both required.
	Actor  string
	Reason string
	// Exception, on an approval or a release, accepts findings of the version with the
	// action's reason, optionally until an expiry (see ExceptionRequest).
	Exception *ExceptionRequest
}

func (a Action) validate(name string) error {
	if strings.TrimSpace(a.Actor) == "" {
		return &FieldError{Field: "actor", Reason: "an authenticated actor is required"}
	}
	if a.Exception != nil && name != ActionApprove && name != ActionRelease {
		return &FieldError{Field: "exception", Reason: "only an approval or a release accepts findings"}
	}
	return checkReason(a.Reason)
}

// checkReason requires printable words: valid UTF-8, no control characters but tabs and
// line breaks, and at least one visible character (a reason of NULs, blanks or zero-width
// characters says nothing, in the audit chain least of all).
func checkReason(r string) error {
	switch {
	case strings.TrimSpace(r) == "":
		return &FieldError{Field: "reason", Reason: "a reason is required"}
	case len(r) > MaxReasonBytes:
		return &FieldError{Field: "reason", Reason: fmt.Sprintf("longer than %d bytes", MaxReasonBytes)}
	case !utf8.ValidString(r):
		return &FieldError{Field: "reason", Reason: "not valid UTF-8"}
	}
	visible := false
	for _, c := range r {
		if unicode.IsControl(c) && c != '\t' && c != '\n' && c != '\r' {
			return &FieldError{Field: "reason", Reason: fmt.Sprintf("control character %U is not allowed", c)}
		}
		visible = visible || (unicode.IsGraphic(c) && !unicode.IsSpace(c) && !unicode.Is(unicode.Cf, c))
	}
	if !visible {
		return &FieldError{Field: "reason", Reason: "a reason is required (printable text, not only blanks or invisible characters)"}
	}
	return nil
}

// Review decisions and manual moves, as the audit chain records them.
const (
	ActionApprove    = "approve"
	ActionReject     = "reject"
	ActionQuarantine = "quarantine"
	ActionRelease    = "release"
)

type move struct {
	from  Status
	to    Status
	audit string
}

var moves = map[string]move{
	ActionApprove:    {StatusPendingReview, StatusPublished, AuditReviewDecision},
	ActionReject:     {StatusPendingReview, StatusRejected, AuditReviewDecision},
	ActionQuarantine: {StatusPublished, StatusQuarantined, AuditQuarantine},
	ActionRelease:    {StatusQuarantined, StatusPublished, AuditRelease},
}

// Approve publishes a version waiting in pending_review.
func (d *Desk) Approve(ctx context.Context, a Action) (Version, error) {
	return d.act(ctx, ActionApprove, a)
}

// Reject rejects a version waiting in pending_review.
func (d *Desk) Reject(ctx context.Context, a Action) (Version, error) {
	return d.act(ctx, ActionReject, a)
}

// Quarantine hides a published version from clients.
func (d *Desk) Quarantine(ctx context.Context, a Action) (Version, error) {
	return d.act(ctx, ActionQuarantine, a)
}

// Release publishes a quarantined version again.
func (d *Desk) Release(ctx context.Context, a Action) (Version, error) {
	return d.act(ctx, ActionRelease, a)
}

func (d *Desk) act(ctx context.Context, name string, a Action) (Version, error) {
	if err := a.validate(name); err != nil {
		return Version{}, err
	}
	m := moves[name]
	v, err := d.store.GetVersion(ctx, a.Key)
	if err != nil {
		return Version{}, err
	}
	if v.Status != m.from {
		return Version{}, fmt.Errorf("cannot %s %s@%s: it is %s, not %s: %w", name, v.Name, v.Version, v.Status, m.from, ErrConflict)
	}
	now := d.clock().UTC()
	ev := map[string]any{"action": name, "reason": a.Reason, "from": string(m.from), "to": string(m.to)}
	var exc *Exception
	if a.Exception != nil {
		if exc, err = d.exception(ctx, a, now); err != nil {
			return Version{}, err
		}
		ev["exception"] = map[string]any{"id": exc.ID, "findings": exc.Findings, "expires": exc.Expires}
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return Version{}, err
	}
	t := Transition{
		Key: a.Key, From: []Status{m.from}, To: m.to, At: now, Exception: exc,
		Audit: AuditEvent{Time: now, Type: m.audit, Actor: a.Actor, Subject: a.Key.Name + "@" + a.Key.Version, Data: data},
	}
	if m.to == StatusQuarantined {
		t.Reason = ReasonReview // public: the class; the reviewer's reason stays in the audit event
	}
	if name == ActionApprove && d.vouch != nil {
		// Signed before the transaction, which stays short.
		if t.VSA, err = d.vouch(ctx, a.Key); err != nil {
			return Version{}, fmt.Errorf("approve %s@%s: the registry's attestation: %w", a.Key.Name, a.Key.Version, err)
		}
	}
	out, err := d.store.Transition(ctx, t)
	if err != nil {
		return Version{}, err
	}
	d.log.Info("review action", slog.String("action", name), slog.String("server", a.Key.Name),
		slog.String("version", a.Key.Version), slog.String("actor", a.Actor))
	return out, nil
}

// Why a version waits for a person, by the check that asked for review.
var reviewKinds = map[string]string{
	CheckToolsDiff:     "tool definition changed",
	CheckToolsLint:     "lint finding",
	CheckNamespace:     "look-alike namespace",
	CheckScan:          "exception needed",
	CheckToolsManifest: "tool manifest needs review",
	CheckLaunch:        "launch configuration finding",
	CheckLaunchDiff:    "launch configuration changed",
}

// ReviewKind says in a few words why a check asked for review.
func ReviewKind(check string) string {
	if k, ok := reviewKinds[check]; ok {
		return k
	}
	return "needs review"
}

// QueueItem is a version waiting in pending_review and why.
type QueueItem struct {
	Version Version
	// Record is the version's evidence (nil when none was recorded).
	Record *VersionRecord
	// Why are the checks whose outcome is Review.
	Why []Check
}

// Queue returns up to limit versions waiting in pending_review after the key (nil: from the
// start), in (name, version) order, and whether more exist.
func (d *Desk) Queue(ctx context.Context, after *Key, limit int) ([]QueueItem, bool, error) {
	vs, more, err := d.store.ListVersionsPage(ctx, ListQuery{After: after, Limit: limit, Statuses: []Status{StatusPendingReview}})
	if err != nil {
		return nil, false, err
	}
	items := make([]QueueItem, 0, len(vs))
	for _, v := range vs {
		it := QueueItem{Version: v, Why: []Check{}}
		rec, err := d.store.VersionRecord(ctx, v.Key())
		switch {
		case err == nil:
			it.Record = &rec
			for _, c := range rec.Checks {
				if c.Outcome == Review {
					it.Why = append(it.Why, c)
				}
			}
		case errors.Is(err, ErrNotFound):
		default:
			return nil, false, err
		}
		items = append(items, it)
	}
	return items, more, nil
}

// Record returns a version and its evidence record (nil when none was recorded).
func (d *Desk) Record(ctx context.Context, k Key) (Version, *VersionRecord, error) {
	v, err := d.store.GetVersion(ctx, k)
	if err != nil {
		return Version{}, nil, err
	}
	rec, err := d.store.VersionRecord(ctx, k)
	switch {
	case err == nil:
		return v, &rec, nil
	case errors.Is(err, ErrNotFound):
		return v, nil, nil
	default:
		return Version{}, nil, err
	}
}

// Previous returns the version of the same server published before v (by publish time),
// the one its tool manifest is diffed against, or nil.
func (d *Desk) Previous(ctx context.Context, v Version) (*Version, *VersionRecord, error) {
	var prev *Version
	var after *Key
	for {
		page, more, err := d.store.ListVersionsPage(ctx, ListQuery{After: after, Limit: 1000, Search: v.Name,
			Statuses: []Status{StatusPublished, StatusQuarantined, StatusDeprecated}})
		if err != nil {
			return nil, nil, err
		}
		for i := range page {
			p := page[i]
			if p.Name != v.Name || p.Version == v.Version || !p.PublishedAt.Before(v.PublishedAt) && !p.PublishedAt.Equal(v.PublishedAt) {
				continue
			}
			if prev == nil || p.PublishedAt.After(prev.PublishedAt) {
				prev = &p
			}
		}
		if !more || len(page) == 0 {
			break
		}
		k := page[len(page)-1].Key()
		after = &k
	}
	if prev == nil {
		return nil, nil, nil
	}
	rec, err := d.store.VersionRecord(ctx, prev.Key())
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return prev, nil, nil
		}
		return nil, nil, err
	}
	return prev, &rec, nil
}

// StatusCounter counts the versions in each status in one query.
type StatusCounter interface {
	CountByStatus(ctx context.Context) (map[Status]int, error)
}

// Counts returns how many versions are in each status.
func (d *Desk) Counts(ctx context.Context) (map[Status]int, error) {
	return d.store.CountByStatus(ctx)
}

// Count returns how many versions are in status st.
func (d *Desk) Count(ctx context.Context, st Status) (int, error) {
	n := 0
	var after *Key
	for {
		page, more, err := d.store.ListVersionsPage(ctx, ListQuery{After: after, Limit: 1000, Statuses: []Status{st}})
		if err != nil {
			return 0, err
		}
		n += len(page)
		if !more || len(page) == 0 {
			return n, nil
		}
		k := page[len(page)-1].Key()
		after = &k
	}
}
