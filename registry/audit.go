package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gowebpki/jcs"
)

// Audit event types. Every decision the registry makes is one event in the audit chain.
const (
	AuditPublishDecision = "publish.decision"
	AuditReviewDecision  = "review.decision"
	AuditQuarantine      = "version.quarantine"
	AuditRelease         = "version.release"
	AuditVEX             = "vex.statement"
	AuditConfigChange    = "config.change"
	AuditRescan          = "scan.rescan"
)

// GenesisHash is the Prev of the first event in a chain.
const GenesisHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// AuditEvent is one entry of the append-only audit chain. Each event carries the hash of the
// canonical form of the one before it (Prev), and its own hash (Hash), so that a changed,
// removed or reordered event breaks the chain at a point VerifyChain names.
type AuditEvent struct {
	// Seq numbers events from 1 without gaps.
	Seq int64 `json:"seq"`
	// Time is when the event was recorded (UTC, truncated to microseconds so that every
	// store round-trips it exactly).
	Time time.Time `json:"time"`
	// Type is one of the Audit* constants.
	Type string `json:"type"`
	// Actor is who caused the event: "<issuer>|<subject>" of a token, or "vetted" for the
	// registry itself.
	Actor string `json:"actor"`
	// Subject is what the event is about, e.g. "io.github.acme/weather@1.0.0".
	Subject string `json:"subject"`
	// Data is the event's details as a JSON object (the decision with its checks, …).
	Data json.RawMessage `json:"data"`
	// Prev is the Hash of the previous event (GenesisHash for the first).
	Prev string `json:"prev"`
	// Hash is "sha256:<hex>" over the event's canonical form (everything but Hash).
	Hash string `json:"hash"`
}

// canonicalAuditEvent is what Hash covers: every field except Hash, as RFC 8785 JSON.
type canonicalAuditEvent struct {
	Seq     int64           `json:"seq"`
	Time    string          `json:"time"`
	Type    string          `json:"type"`
	Actor   string          `json:"actor"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`
	Prev    string          `json:"prev"`
}

// AuditTime normalizes t the way the audit chain stores it: UTC, microsecond precision.
func AuditTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CanonicalAudit returns the canonical bytes of e that its Hash covers.
func CanonicalAudit(e AuditEvent) ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	raw, err := json.Marshal(canonicalAuditEvent{
		Seq: e.Seq, Time: AuditTime(e.Time).Format(time.RFC3339Nano), Type: e.Type,
		Actor: e.Actor, Subject: e.Subject, Data: data, Prev: e.Prev,
	})
	if err != nil {
		return nil, fmt.Errorf("audit event %d: %w", e.Seq, err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("audit event %d: canonical form: %w", e.Seq, err)
	}
	return out, nil
}

// HashAudit returns "sha256:<hex>" of e's canonical form.
func HashAudit(e AuditEvent) (string, error) {
	c, err := CanonicalAudit(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// SealAudit links e after prev (nil for the first event): it sets Seq, Prev, normalizes
// Time and Data, and computes Hash. Stores call it inside the transaction that appends e,
// after reading the current head of the chain.
func SealAudit(prev *AuditEvent, e AuditEvent) (AuditEvent, error) {
	if e.Type == "" {
		return AuditEvent{}, fmt.Errorf("audit event: empty type: %w", ErrInvalid)
	}
	if len(e.Data) == 0 {
		e.Data = json.RawMessage("{}")
	}
	if !json.Valid(e.Data) || !strings.HasPrefix(strings.TrimSpace(string(e.Data)), "{") {
		return AuditEvent{}, fmt.Errorf("audit event %q: data is not a JSON object: %w", e.Type, ErrInvalid)
	}
	// Store the canonical data so that the bytes kept are the bytes hashed.
	d, err := jcs.Transform(e.Data)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("audit event %q: data: %w", e.Type, err)
	}
	e.Data = d
	e.Time = AuditTime(e.Time)
	if prev == nil {
		e.Seq, e.Prev = 1, GenesisHash
	} else {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	h, err := HashAudit(e)
	if err != nil {
		return AuditEvent{}, err
	}
	e.Hash = h
	return e, nil
}

// ErrAuditChain is wrapped by every *ChainError.
var ErrAuditChain = errors.New("audit chain broken")

// ChainError says where and how the audit chain is broken.
type ChainError struct {
	// Seq is the sequence number of the first event found wrong (the position in the chain
	// when the stored Seq itself is wrong).
	Seq int64 `json:"seq"`
	// Reason is one of "changed", "removed or reordered", "bad sequence", "truncated".
	Reason string `json:"reason"`
	// Detail is a human explanation.
	Detail string `json:"detail"`
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit chain broken at event %d (%s): %s", e.Seq, e.Reason, e.Detail)
}
func (e *ChainError) Unwrap() error { return ErrAuditChain }

// Chain-break reasons.
const (
	ChainChanged   = "changed"
	ChainRemoved   = "removed or reordered"
	ChainBadSeq    = "bad sequence"
	ChainTruncated = "truncated"
)

// ChainVerifier checks a chain event by event (so that a store can stream a long chain).
// The zero value expects the chain to start at event 1.
type ChainVerifier struct {
	prev  *AuditEvent
	count int64
}

// Next checks the next event in order. It returns a *ChainError at the first break.
func (v *ChainVerifier) Next(e AuditEvent) error {
	want := v.count + 1
	if e.Seq != want {
		reason := ChainRemoved
		if e.Seq < want {
			reason = ChainBadSeq
		}
		return &ChainError{Seq: want, Reason: reason,
			Detail: fmt.Sprintf("expected event %d, found event %d", want, e.Seq)}
	}
	got, err := HashAudit(e)
	if err != nil {
		return &ChainError{Seq: e.Seq, Reason: ChainChanged, Detail: err.Error()}
	}
	if got != e.Hash {
		return &ChainError{Seq: e.Seq, Reason: ChainChanged,
			Detail: fmt.Sprintf("content hashes to %s but the event records %s", got, e.Hash)}
	}
	wantPrev := GenesisHash
	if v.prev != nil {
		wantPrev = v.prev.Hash
	}
	if e.Prev != wantPrev {
		return &ChainError{Seq: e.Seq, Reason: ChainRemoved,
			Detail: fmt.Sprintf("prev is %s but the event before it hashes to %s", e.Prev, wantPrev)}
	}
	ev := e
	v.prev = &ev
	v.count++
	return nil
}

// Head returns the last verified event (nil when none) and the number verified.
func (v *ChainVerifier) Head() (*AuditEvent, int64) { return v.prev, v.count }

// Finish checks the end of the chain against an expected head hash when one is known (for
// example from a signed checkpoint or an earlier `vetted audit verify`): a chain whose tail
// was cut off is otherwise indistinguishable from a shorter one. Empty expectHead skips it.
func (v *ChainVerifier) Finish(expectHead string) error {
	if expectHead == "" {
		return nil
	}
	if v.prev == nil || v.prev.Hash != expectHead {
		got := "(empty chain)"
		if v.prev != nil {
			got = v.prev.Hash
		}
		return &ChainError{Seq: v.count, Reason: ChainTruncated,
			Detail: fmt.Sprintf("chain ends at %s, expected head %s", got, expectHead)}
	}
	return nil
}

// FinishHead checks the end of the chain against the store's head row (seq, hash), which
// every append updates in the same transaction: events deleted from the end of the chain
// leave the head row pointing past it.
func (v *ChainVerifier) FinishHead(seq int64, hash string) error {
	got := ""
	if v.prev != nil {
		got = v.prev.Hash
	}
	switch {
	case seq == v.count && hash == got:
		return nil
	case seq > v.count:
		return &ChainError{Seq: v.count + 1, Reason: ChainTruncated,
			Detail: fmt.Sprintf("the chain ends at event %d but the head row records event %d (%s)", v.count, seq, hash)}
	default:
		return &ChainError{Seq: v.count, Reason: ChainChanged,
			Detail: fmt.Sprintf("the chain ends at event %d (%s) but the head row records event %d (%s)", v.count, got, seq, hash)}
	}
}

// CheckHead compares the newest stored event (nil when none) with the head row; stores call
// it before appending, so that a chain whose end was cut or changed takes no new events.
func CheckHead(last *AuditEvent, seq int64, hash string) error {
	var v ChainVerifier
	if last != nil {
		v.prev, v.count = last, last.Seq
	}
	if err := v.FinishHead(seq, hash); err != nil {
		return fmt.Errorf("the registry is read-only until the audit chain is repaired: %w", err)
	}
	return nil
}

// VerifyChain checks a whole chain given in stored order.
func VerifyChain(events []AuditEvent) error {
	var v ChainVerifier
	for _, e := range events {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	return nil
}
