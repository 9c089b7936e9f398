package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// An exception is a reviewer accepting findings for one server version: lint findings (by
// tool, rule and JSON pointer), vulnerabilities (by id), or every finding of the version. It
// is set when the version is approved out of pending_review or released from quarantine,
// always with the action's reason and optionally with an expiry. When it expires (or is
// revoked), the version is re-evaluated: a published version whose accepted findings are
// still there goes back to pending_review, and every step is in the audit chain.

// Kinds of accepted findings.
const (
	ExceptLint          = "lint"
	ExceptVulnerability = "vulnerability"
	ExceptAll           = "all"
)

// Audit event types of exceptions. Setting one is part of the approval's or release's event.
const (
	AuditExceptionExpire = "exception.expire"
	AuditExceptionRevoke = "exception.revoke"
)

// MaxExceptedFindings bounds the findings one exception names.
const MaxExceptedFindings = 100

// ExceptedFinding names one finding an exception accepts.
type ExceptedFinding struct {
	// Kind is ExceptLint, ExceptVulnerability or ExceptAll.
	Kind string `json:"kind"`
	// Tool, Rule and Pointer name a lint finding (Pointer within the tool's definition).
	Tool    string `json:"tool,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	// Vulnerability is a vulnerability id (GHSA-…, CVE-…) as the scan report names it.
	Vulnerability string `json:"vulnerability,omitempty"`
}

// String says which finding, in a few words.
func (f ExceptedFinding) String() string {
	switch f.Kind {
	case ExceptLint:
		return fmt.Sprintf("%s in tool %q at %s", f.Rule, f.Tool, f.Pointer)
	case ExceptVulnerability:
		return f.Vulnerability
	case ExceptAll:
		return "every finding"
	}
	return f.Kind
}

// Exception is a recorded acceptance of findings for one version.
type Exception struct {
	// ID is the registry's identifier (a UUID).
	ID       string            `json:"id"`
	Server   string            `json:"server"`
	Version  string            `json:"version"`
	Findings []ExceptedFinding `json:"findings"`
	// Actor set it at CreatedAt, for Reason (the approval's or release's reason).
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"createdAt"`
	// Expires, when set, ends the exception: the version is then re-evaluated.
	Expires *time.Time `json:"expires,omitempty"`
	// Ended is set once the exception expired or was revoked.
	Ended *ExceptionEnd `json:"ended,omitempty"`
}

// Key returns the version the exception is for.
func (e Exception) Key() Key { return Key{Name: e.Server, Version: e.Version} }

// Active reports whether the exception is in effect at now.
func (e Exception) Active(now time.Time) bool {
	return e.Ended == nil && (e.Expires == nil || now.Before(*e.Expires))
}

// Covers reports whether the exception names the lint finding f (an "all" exception covers
// every finding).
func (e Exception) Covers(f ToolFinding) bool {
	for _, x := range e.Findings {
		if x.Kind == ExceptAll || x.Kind == ExceptLint && x.Tool == f.Tool && x.Rule == f.Rule && x.Pointer == f.Pointer {
			return true
		}
	}
	return false
}

// CoversVulnerability reports whether the exception names a vulnerability with one of ids.
func (e Exception) CoversVulnerability(ids ...string) bool {
	for _, x := range e.Findings {
		if x.Kind == ExceptAll {
			return true
		}
		if x.Kind == ExceptVulnerability && slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(id, x.Vulnerability) }) {
			return true
		}
	}
	return false
}

// Exception end causes.
const (
	ExceptionExpired = "expired"
	ExceptionRevoked = "revoked"
)

// ExceptionEnd is how an exception ended.
type ExceptionEnd struct {
	// ID is the exception that ends (in a Transition).
	ID string `json:"-"`
	// Cause is ExceptionExpired or ExceptionRevoked; Actor who ended it ("vetted" for an
	// expiry), Reason why.
	Cause  string    `json:"cause"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ExceptionQuery selects exceptions.
type ExceptionQuery struct {
	// ID, when set, selects one exception.
	ID string
	// Key, when set, keeps one version's exceptions.
	Key *Key
	// DueAt, when non-zero, keeps exceptions not ended whose expiry is at or before it.
	DueAt time.Time
	// Limit bounds the answer (0: no bound).
	Limit int
}

// ExceptionStore reads exceptions; they are written by Transition (Transition.Exception and
// Transition.EndException), in the transaction that changes the version. Backends pass
// registry/storetest's exception suite.
type ExceptionStore interface {
	// Exceptions returns the exceptions q selects, oldest first.
	Exceptions(ctx context.Context, q ExceptionQuery) ([]Exception, error)
}

// ExceptionRequest is what a reviewer accepts when approving or releasing a version.
type ExceptionRequest struct {
	Findings []ExceptedFinding
	// Expires, when set, must be in the future.
	Expires *time.Time
}

// exception validates r against the version's recorded findings and returns the exception
// to record. Every named finding must be one the version has, so that the chain records
// what was accepted, not what was typed.
func (d *Desk) exception(ctx context.Context, a Action, now time.Time) (*Exception, error) {
	r := a.Exception
	if len(r.Findings) == 0 {
		return nil, &FieldError{Field: "exception.findings", Reason: `name at least one finding to accept (or {"kind":"all"})`}
	}
	if len(r.Findings) > MaxExceptedFindings {
		return nil, &FieldError{Field: "exception.findings", Reason: fmt.Sprintf("more than %d findings", MaxExceptedFindings)}
	}
	if r.Expires != nil && !r.Expires.After(now) {
		return nil, &FieldError{Field: "exception.expires", Reason: fmt.Sprintf("%s is not in the future", r.Expires.UTC().Format(time.RFC3339))}
	}
	present, err := d.findings(ctx, a.Key)
	if err != nil {
		return nil, err
	}
	out := &Exception{ID: uuid.NewString(), Server: a.Key.Name, Version: a.Key.Version, Actor: a.Actor, Reason: a.Reason, CreatedAt: now}
	if r.Expires != nil {
		e := AuditTime(*r.Expires)
		out.Expires = &e
	}
	for i, f := range r.Findings {
		field := fmt.Sprintf("exception.findings[%d]", i)
		switch f.Kind {
		case ExceptAll:
			if len(r.Findings) > 1 {
				return nil, &FieldError{Field: field, Reason: `"all" accepts every finding; name it alone`}
			}
			out.Findings = append(out.Findings, ExceptedFinding{Kind: ExceptAll})
		case ExceptLint:
			if f.Tool == "" || f.Rule == "" {
				return nil, &FieldError{Field: field, Reason: "a lint finding needs its tool, rule and pointer"}
			}
			lf := ToolFinding{Tool: f.Tool, Rule: f.Rule, Pointer: f.Pointer}
			if !slices.ContainsFunc(present.Lint, func(p ToolFinding) bool { return p.Tool == lf.Tool && p.Rule == lf.Rule && p.Pointer == lf.Pointer }) {
				return nil, &FieldError{Field: field, Reason: fmt.Sprintf("%s@%s has no lint finding %s in tool %q at %q", a.Key.Name, a.Key.Version, f.Rule, f.Tool, f.Pointer)}
			}
			out.Findings = append(out.Findings, ExceptedFinding{Kind: ExceptLint, Tool: f.Tool, Rule: f.Rule, Pointer: f.Pointer})
		case ExceptVulnerability:
			id := present.vulnerability(f.Vulnerability)
			if id == "" {
				return nil, &FieldError{Field: field, Reason: fmt.Sprintf("%s@%s has no finding of vulnerability %q", a.Key.Name, a.Key.Version, f.Vulnerability)}
			}
			out.Findings = append(out.Findings, ExceptedFinding{Kind: ExceptVulnerability, Vulnerability: id})
		default:
			return nil, &FieldError{Field: field + ".kind", Reason: fmt.Sprintf("%q is not one of lint, vulnerability, all", f.Kind)}
		}
	}
	return out, nil
}

// versionFindings are a version's findings now: its lint findings and its vulnerability
// findings that no VEX statement in effect suppresses (each with its id and aliases).
type versionFindings struct {
	Lint  []ToolFinding
	Vulns [][]string
}

func (f versionFindings) vulnerability(id string) string {
	if strings.TrimSpace(id) == "" {
		return ""
	}
	for _, ids := range f.Vulns {
		if slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, id) }) {
			return ids[0]
		}
	}
	return ""
}

func (d *Desk) findings(ctx context.Context, k Key) (versionFindings, error) {
	var out versionFindings
	_, rec, err := d.Record(ctx, k)
	if err != nil || rec == nil {
		return out, err
	}
	if len(rec.ToolReport) > 0 {
		var tr ToolReport
		if err := json.Unmarshal(rec.ToolReport, &tr); err != nil {
			return out, fmt.Errorf("tool report of %s@%s: %w", k.Name, k.Version, err)
		}
		out.Lint = tr.Findings
	}
	if len(rec.ScanReport) > 0 {
		_, rs, err := d.Reports(ctx, k)
		if err != nil {
			return out, err
		}
		for _, r := range rs {
			for _, f := range r.Findings {
				if f.Suppressed == nil {
					out.Vulns = append(out.Vulns, append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...))
				}
			}
		}
	}
	return out, nil
}

// stillPresent reports which of e's findings the version still has.
func (f versionFindings) stillPresent(e Exception) []ExceptedFinding {
	var out []ExceptedFinding
	for _, x := range e.Findings {
		switch x.Kind {
		case ExceptAll:
			if len(f.Lint) > 0 || len(f.Vulns) > 0 {
				out = append(out, x)
			}
		case ExceptLint:
			if slices.ContainsFunc(f.Lint, func(p ToolFinding) bool { return p.Tool == x.Tool && p.Rule == x.Rule && p.Pointer == x.Pointer }) {
				out = append(out, x)
			}
		case ExceptVulnerability:
			if f.vulnerability(x.Vulnerability) != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// Exceptions returns a version's exceptions, oldest first, ended ones included.
func (d *Desk) Exceptions(ctx context.Context, k Key) ([]Exception, error) {
	if _, err := d.store.GetVersion(ctx, k); err != nil {
		return nil, err
	}
	return d.store.Exceptions(ctx, ExceptionQuery{Key: &k})
}

// Exception returns one exception (ErrNotFound when none).
func (d *Desk) Exception(ctx context.Context, id string) (Exception, error) {
	es, err := d.store.Exceptions(ctx, ExceptionQuery{ID: id, Limit: 1})
	if err != nil {
		return Exception{}, err
	}
	if len(es) == 0 {
		return Exception{}, fmt.Errorf("exception %s: %w", id, ErrNotFound)
	}
	return es[0], nil
}

// RevokeException ends an exception before its expiry; the version is re-evaluated as on
// expiry (a published version whose accepted findings remain goes back to pending_review).
func (d *Desk) RevokeException(ctx context.Context, id, actor, reason string) (Exception, Version, error) {
	if strings.TrimSpace(actor) == "" {
		return Exception{}, Version{}, &FieldError{Field: "actor", Reason: "an authenticated actor is required"}
	}
	if err := checkReason(reason); err != nil {
		return Exception{}, Version{}, err
	}
	e, err := d.Exception(ctx, id)
	if err != nil {
		return Exception{}, Version{}, err
	}
	if e.Ended != nil {
		return Exception{}, Version{}, fmt.Errorf("exception %s already %s at %s: %w", id, e.Ended.Cause, e.Ended.At.Format(time.RFC3339), ErrConflict)
	}
	now := d.clock().UTC()
	v, err := d.endException(ctx, e, ExceptionEnd{ID: id, Cause: ExceptionRevoked, Actor: actor, Reason: reason, At: now})
	if err != nil {
		return Exception{}, Version{}, err
	}
	e.Ended = &ExceptionEnd{Cause: ExceptionRevoked, Actor: actor, Reason: reason, At: AuditTime(now)}
	return e, v, nil
}

// ExpiryReport is what one sweep of expired exceptions did.
type ExpiryReport struct {
	// Expired counts the exceptions ended; Requeued the versions sent back to
	// pending_review; Failed the exceptions left for the next sweep.
	Expired  int   `json:"expired"`
	Requeued []Key `json:"requeued"`
	Failed   int   `json:"failed"`
}

// expiryBatch bounds the exceptions one sweep reads at a time.
const expiryBatch = 100

// ExpireExceptions ends every exception whose expiry is at or before now and re-evaluates
// its version: a published version that still has an accepted finding goes back to
// pending_review (the registry no longer vouches for it until a reviewer decides again); any
// other version only records the end. Each is audited with the actor "vetted". Run it
// periodically; it is idempotent, and a replica racing another one only loses the race.
func (d *Desk) ExpireExceptions(ctx context.Context, now time.Time) (ExpiryReport, error) {
	rep := ExpiryReport{Requeued: []Key{}}
	seen := map[string]bool{}
	for {
		due, err := d.store.Exceptions(ctx, ExceptionQuery{DueAt: now, Limit: expiryBatch})
		if err != nil {
			return rep, fmt.Errorf("expired exceptions: %w", err)
		}
		progress := false
		for _, e := range due {
			if seen[e.ID] {
				continue
			}
			seen[e.ID], progress = true, true
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			before, _ := d.store.GetVersion(ctx, e.Key())
			v, err := d.endException(ctx, e, ExceptionEnd{ID: e.ID, Cause: ExceptionExpired, Actor: "vetted",
				Reason: "expired at " + e.Expires.UTC().Format(time.RFC3339), At: now})
			switch {
			case errors.Is(err, ErrConflict):
				continue // ended or moved meanwhile (another replica, a reviewer)
			case err != nil:
				rep.Failed++
				d.log.Warn("exception expiry failed", slog.String("exception", e.ID), slog.String("server", e.Server),
					slog.String("version", e.Version), slog.String("error", err.Error()))
				continue
			}
			rep.Expired++
			if before.Status == StatusPublished && v.Status == StatusPendingReview {
				rep.Requeued = append(rep.Requeued, e.Key())
			}
		}
		if !progress || len(due) < expiryBatch {
			return rep, nil
		}
	}
}

// endException records end and re-evaluates the version in one transition.
func (d *Desk) endException(ctx context.Context, e Exception, end ExceptionEnd) (Version, error) {
	v, err := d.store.GetVersion(ctx, e.Key())
	if err != nil {
		return Version{}, err
	}
	present, err := d.findings(ctx, e.Key())
	if err != nil {
		return Version{}, err
	}
	remaining := present.stillPresent(e)
	to := v.Status
	if v.Status == StatusPublished && len(remaining) > 0 {
		to = StatusPendingReview
	}
	typ := AuditExceptionExpire
	if end.Cause == ExceptionRevoked {
		typ = AuditExceptionRevoke
	}
	if remaining == nil {
		remaining = []ExceptedFinding{}
	}
	data, err := json.Marshal(map[string]any{"exception": e.ID, "cause": end.Cause, "reason": end.Reason,
		"findings": e.Findings, "stillPresent": remaining, "from": v.Status, "to": to})
	if err != nil {
		return Version{}, err
	}
	end.At = end.At.UTC()
	out, err := d.store.Transition(ctx, Transition{Key: e.Key(), From: []Status{v.Status}, To: to, At: end.At, EndException: &end,
		Audit: AuditEvent{Time: end.At, Type: typ, Actor: end.Actor, Subject: e.Server + "@" + e.Version, Data: data}})
	if err != nil {
		return Version{}, err
	}
	d.log.Info("exception ended", slog.String("exception", e.ID), slog.String("cause", end.Cause), slog.String("server", e.Server),
		slog.String("version", e.Version), slog.String("from", string(v.Status)), slog.String("to", string(to)))
	return out, nil
}

// ExceptionExpiryJob is the name of the job that ends expired exceptions.
const ExceptionExpiryJob = "exception-expiry"

// ExpiryJob is the periodic job (for Jobs) that runs ExpireExceptions every period; its
// result is the ExpiryReport.
func (d *Desk) ExpiryJob(every time.Duration) Job {
	return Job{Name: ExceptionExpiryJob, Every: every, Lease: 5 * time.Minute, Run: func(ctx context.Context) (any, error) {
		rep, err := d.ExpireExceptions(ctx, d.clock())
		if rep.Expired > 0 || rep.Failed > 0 {
			d.log.Info("exceptions expired", slog.Int("expired", rep.Expired), slog.Int("requeued", len(rep.Requeued)), slog.Int("failed", rep.Failed))
		}
		return rep, err
	}}
}
