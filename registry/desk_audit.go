package registry

import (
	"context"
	"errors"
	"strings"
	"time"
)

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	// Type is an exact event type ("review.decision").
	Type string
	// Actor and Subject match when they contain the given text.
	Actor   string
	Subject string
	// Since and Until bound the event time (inclusive, exclusive).
	Since time.Time
	Until time.Time
}

// Match reports whether e passes the filter.
func (f AuditFilter) Match(e AuditEvent) bool {
	return (f.Type == "" || e.Type == f.Type) &&
		(f.Actor == "" || strings.Contains(e.Actor, f.Actor)) &&
		(f.Subject == "" || strings.Contains(e.Subject, f.Subject)) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.Until.IsZero() || e.Time.Before(f.Until))
}

// auditBatch is how many events one store read returns while filtering.
const auditBatch = 1000

// MaxAuditScan bounds how many events one page of a filtered listing reads; a page that
// reaches it returns what it found with a cursor to continue from.
const MaxAuditScan = 100_000

// Audit returns up to limit events with Seq > after that match f, in Seq order, and the Seq
// to continue from (0 when the chain is exhausted).
func (d *Desk) Audit(ctx context.Context, after int64, limit int, f AuditFilter) ([]AuditEvent, int64, error) {
	if limit < 1 || limit > 1000 {
		return nil, 0, &FieldError{Field: "limit", Reason: "want 1..1000"}
	}
	if after < 0 {
		return nil, 0, &FieldError{Field: "after", Reason: "negative sequence number"}
	}
	out := []AuditEvent{}
	scanned := 0
	for {
		es, err := d.store.AuditEvents(ctx, after, auditBatch)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range es {
			after = e.Seq
			if f.Match(e) {
				out = append(out, e)
				if len(out) == limit {
					return out, after, nil
				}
			}
		}
		scanned += len(es)
		if len(es) < auditBatch {
			return out, 0, nil
		}
		if scanned >= MaxAuditScan {
			return out, after, nil
		}
	}
}

// EachAudit calls fn for every event matching f, in Seq order (for exports).
func (d *Desk) EachAudit(ctx context.Context, f AuditFilter, fn func(AuditEvent) error) error {
	var after int64
	for {
		es, err := d.store.AuditEvents(ctx, after, auditBatch)
		if err != nil {
			return err
		}
		for _, e := range es {
			after = e.Seq
			if f.Match(e) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		if len(es) < auditBatch {
			return nil
		}
	}
}

// ChainStatus is the outcome of verifying the whole audit chain.
type ChainStatus struct {
	// OK is true when every event links to the one before it and hashes to its Hash.
	OK bool `json:"ok"`
	// Events is how many events were verified before the end or the first break.
	Events int64 `json:"events"`
	// Head is the hash of the last verified event ("" for an empty chain).
	Head string `json:"head,omitempty"`
	// Break says where and how the chain is broken.
	Break     *ChainError `json:"break,omitempty"`
	CheckedAt time.Time   `json:"checkedAt"`
}

// VerifyAudit reads the whole chain and verifies it.
func (d *Desk) VerifyAudit(ctx context.Context) (ChainStatus, error) {
	var v ChainVerifier
	st := ChainStatus{CheckedAt: d.clock().UTC()}
	var after int64
	for {
		es, err := d.store.AuditEvents(ctx, after, auditBatch)
		if err != nil {
			return st, err
		}
		for _, e := range es {
			after = e.Seq
			if err := v.Next(e); err != nil {
				var ce *ChainError
				if !errors.As(err, &ce) {
					return st, err
				}
				_, st.Events = v.Head()
				st.Break = ce
				if h, _ := v.Head(); h != nil {
					st.Head = h.Hash
				}
				return st, nil
			}
		}
		if len(es) < auditBatch {
			break
		}
	}
	h, n := v.Head()
	st.OK, st.Events = true, n
	if h != nil {
		st.Head = h.Hash
	}
	return st, nil
}

// RecentAudit returns the n newest events that keep accepts, newest first. It finds the head
// of the chain in O(log events) reads and reads backwards from it in windows, so that the
// dashboard does not read the whole chain.
func (d *Desk) RecentAudit(ctx context.Context, n int, keep func(AuditEvent) bool) ([]AuditEvent, error) {
	if n < 1 {
		return []AuditEvent{}, nil
	}
	head, err := d.headSeq(ctx)
	if err != nil {
		return nil, err
	}
	out := []AuditEvent{}
	const window = 500
	for end := head; end > 0 && len(out) < n; end -= window {
		start := max(end-window, 0)
		es, err := d.store.AuditEvents(ctx, start, int(end-start))
		if err != nil {
			return nil, err
		}
		for i := len(es) - 1; i >= 0 && len(out) < n; i-- {
			if keep == nil || keep(es[i]) {
				out = append(out, es[i])
			}
		}
	}
	return out, nil
}

// AuditLength returns how many events the chain holds (the newest event's Seq).
func (d *Desk) AuditLength(ctx context.Context) (int64, error) { return d.headSeq(ctx) }

// headSeq returns the sequence number of the newest event (0 for an empty chain), probing
// AuditEvents: exponentially up, then by bisection.
func (d *Desk) headSeq(ctx context.Context) (int64, error) {
	exists := func(seq int64) (bool, error) { // is there an event with Seq >= seq?
		es, err := d.store.AuditEvents(ctx, seq-1, 1)
		return len(es) > 0, err
	}
	lo, hi := int64(0), int64(1) // an event exists at lo (or lo is 0); hi is probed
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 { // events exist at lo, none at hi
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
