package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Stored versions are tamper-evident: the audit event that creates a version records the
// digests of what is served (VersionSeal), every status change is an event too, and the
// chain's hashes make those events themselves tamper-evident. The read path compares each
// version row with the event that created it (CheckSealed) before serving it; `vetted audit
// verify` replays the whole chain against every stored row (Ledger).

// More audit event types: versions recorded outside the publish pipeline (imports, seeding
// through Store.CreateVersion) and statuses set directly (Store.SetStatus).
const (
	AuditImport = "version.import"
	AuditStatus = "version.status"
)

// VersionSeal is what the event that creates a version records about it, in its data
// object. Stores add it to the creating event inside the transaction that writes the row.
type VersionSeal struct {
	Status Status `json:"status"`
	// ContentDigest is the version's ContentDigest (of the submitted server.json).
	ContentDigest string `json:"contentDigest"`
	// ServedDigest is Digest of the bytes served under "server" (ServedBytes).
	ServedDigest string `json:"servedDigest"`
	// Packages are the pinned packages (empty for a version without OCI packages).
	Packages []PinnedPackage `json:"packages"`
}

// ServedBytes returns the server.json bytes that clients get for v.
func ServedBytes(v Version) []byte {
	if len(v.Served) == 0 {
		return v.ServerJSON
	}
	return v.Served
}

// SealOf returns the seal of v with its pinned packages.
func SealOf(v Version, pkgs []PinnedPackage) VersionSeal {
	if pkgs == nil {
		pkgs = []PinnedPackage{}
	}
	return VersionSeal{Status: v.Status, ContentDigest: v.ContentDigest, ServedDigest: Digest(ServedBytes(v)), Packages: pkgs}
}

// WithSeal returns e with s's fields set in its data object (other fields are kept). A
// caller-provided value that contradicts the seal is an error: the event would record
// something other than what is stored.
func WithSeal(e AuditEvent, s VersionSeal) (AuditEvent, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(e.Data)) > 0 {
		if err := json.Unmarshal(e.Data, &m); err != nil {
			return AuditEvent{}, fmt.Errorf("audit event %q: data is not a JSON object: %w", e.Type, ErrInvalid)
		}
	}
	if raw, ok := m["contentDigest"]; ok {
		var cd string
		if json.Unmarshal(raw, &cd) != nil || cd != s.ContentDigest {
			return AuditEvent{}, fmt.Errorf("audit event %q records content digest %s, the version has %s: %w", e.Type, raw, s.ContentDigest, ErrInvalid)
		}
	}
	for k, v := range map[string]any{"status": s.Status, "contentDigest": s.ContentDigest, "servedDigest": s.ServedDigest, "packages": s.Packages} {
		b, err := json.Marshal(v)
		if err != nil {
			return AuditEvent{}, err
		}
		m[k] = b
	}
	data, err := json.Marshal(m)
	if err != nil {
		return AuditEvent{}, err
	}
	e.Data = data
	return e, nil
}

// ImportEvent is the creating event of a version recorded through Store.CreateVersion.
func ImportEvent(v Version) AuditEvent {
	return AuditEvent{Time: v.PublishedAt, Type: AuditImport, Actor: "vetted", Subject: v.Name + "@" + v.Version}
}

// StatusEvent is the event of a status set through Store.SetStatus.
func StatusEvent(k Key, from, to Status, at time.Time) AuditEvent {
	data, _ := json.Marshal(map[string]Status{"from": from, "to": to})
	return AuditEvent{Time: at, Type: AuditStatus, Actor: "vetted", Subject: k.Name + "@" + k.Version, Data: data}
}

// ErrIntegrity is wrapped by every *IntegrityError.
var ErrIntegrity = errors.New("stored version failed its integrity check")

// IntegrityError says which stored version disagrees with its audit event, and how.
type IntegrityError struct {
	Key    Key
	Seq    int64 // the creating event (0 when none)
	Reason string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s@%s: %s (audit event %d)", e.Key.Name, e.Key.Version, e.Reason, e.Seq)
}
func (e *IntegrityError) Unwrap() error { return ErrIntegrity }

// creates reports whether an event of type typ with data d creates a version.
func creates(typ string, d eventFields) bool {
	switch typ {
	case AuditImport:
		return true
	case AuditPublishDecision:
		return d.Decision == DecisionPublished || d.Decision == DecisionPendingReview
	}
	return false
}

// eventFields are the fields of an event's data that integrity checks read.
type eventFields struct {
	Decision      Decision        `json:"decision"`
	Status        Status          `json:"status"`
	To            Status          `json:"to"`
	ContentDigest string          `json:"contentDigest"`
	ServedDigest  string          `json:"servedDigest"`
	Packages      []PinnedPackage `json:"packages"`
}

// ErrNeedsServerJSON is CheckSealed's answer for a version read without its stored
// server.json (ListQuery.Serving) whose creating event predates served digests: the check
// must recompute what was served from the stored document. Read the version whole
// (GetVersion) and check that; a whole read that still has no document fails the check.
var ErrNeedsServerJSON = errors.New("the integrity check needs the stored server.json")

// CheckSealed checks v against v.Sealed, the event that created it (as the store read it
// beside the row): it must exist, be about v, and record the digest of the bytes v serves.
// Read paths call it before serving v.
func CheckSealed(v Version) error {
	fail := func(seq int64, format string, a ...any) error {
		return &IntegrityError{Key: v.Key(), Seq: seq, Reason: fmt.Sprintf(format, a...)}
	}
	e := v.Sealed
	if e == nil {
		return fail(0, "no audit event records this version")
	}
	var d eventFields
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return fail(e.Seq, "its audit event's data does not parse: %v", err)
	}
	if e.Subject != v.Name+"@"+v.Version || !creates(e.Type, d) {
		return fail(e.Seq, "its audit event (%s of %s) did not create this version", e.Type, e.Subject)
	}
	if d.ContentDigest != v.ContentDigest {
		return fail(e.Seq, "content digest %s differs from the recorded %s", v.ContentDigest, d.ContentDigest)
	}
	if d.ServedDigest != "" {
		if got := Digest(ServedBytes(v)); got != d.ServedDigest {
			return fail(e.Seq, "the served document hashes to %s, the decision recorded %s", got, d.ServedDigest)
		}
		return nil
	}
	// An event written before seals existed records the content digest and the pins:
	// recompute what was served from them.
	if v.ServerJSON == nil {
		return ErrNeedsServerJSON
	}
	if cd, err := CanonicalContentDigest(v.ServerJSON); err != nil || cd != d.ContentDigest {
		return fail(e.Seq, "the stored server.json no longer hashes to the recorded content digest")
	}
	pins := map[int]string{}
	for _, p := range d.Packages {
		pins[p.Index] = p.Pinned
	}
	want, err := legacyPinnedServerJSON(v.ServerJSON, pins)
	if err != nil || !bytes.Equal(want, ServedBytes(v)) {
		return fail(e.Seq, "the served document differs from the server.json pinned as recorded")
	}
	return nil
}

// Mismatch kinds reported by Ledger.
const (
	MismatchVersion  = "version tampered"
	MismatchPackages = "packages tampered"
	MismatchStatus   = "status mismatch"
	MismatchNoEvent  = "no audit event"
	MismatchMissing  = "version missing"
)

// Mismatch is one stored row that disagrees with the audit chain.
type Mismatch struct {
	// Subject is "name@version".
	Subject string `json:"subject"`
	// Kind is one of the Mismatch* constants.
	Kind string `json:"kind"`
	// Seq is the audit event the row was compared with (0 when none).
	Seq    int64  `json:"seq,omitempty"`
	Detail string `json:"detail"`
}

func (m Mismatch) String() string { return fmt.Sprintf("%s: %s: %s", m.Subject, m.Kind, m.Detail) }

// Ledger replays the version events of a verified audit chain (Add, in order) and then
// compares every stored version with what the chain says it should be (Check), naming each
// disagreement.
type Ledger struct {
	m map[string]*ledgerEntry
}

type ledgerEntry struct {
	seq    int64 // creating event
	fields eventFields
	status Status
	seen   bool
}

// Add replays one event of the chain.
func (l *Ledger) Add(e AuditEvent) {
	if l.m == nil {
		l.m = map[string]*ledgerEntry{}
	}
	var d eventFields
	if json.Unmarshal(e.Data, &d) != nil {
		return
	}
	if creates(e.Type, d) {
		st := d.Status
		if st == "" {
			st = Status(d.Decision)
		}
		l.m[e.Subject] = &ledgerEntry{seq: e.Seq, fields: d, status: st}
		return
	}
	le := l.m[e.Subject]
	if le == nil {
		return
	}
	switch {
	case d.To != "":
		le.status = d.To
	case e.Type == AuditQuarantine:
		le.status = StatusQuarantined
	case e.Type == AuditRelease:
		le.status = StatusPublished
	}
}

// Check compares one stored version and its pinned packages with the chain.
func (l *Ledger) Check(v Version, pkgs []PinnedPackage) []Mismatch {
	subject := v.Name + "@" + v.Version
	le := l.m[subject]
	if le == nil {
		return []Mismatch{{Subject: subject, Kind: MismatchNoEvent, Detail: "no audit event created this version"}}
	}
	le.seen = true
	var out []Mismatch
	add := func(kind, format string, a ...any) {
		out = append(out, Mismatch{Subject: subject, Kind: kind, Seq: le.seq, Detail: fmt.Sprintf(format, a...)})
	}
	d := le.fields
	if cd, err := CanonicalContentDigest(v.ServerJSON); err != nil || cd != d.ContentDigest {
		add(MismatchVersion, "the stored server.json hashes to %s, the chain recorded %s", cd, d.ContentDigest)
	} else if v.ContentDigest != d.ContentDigest {
		add(MismatchVersion, "the content_digest column is %s, the chain recorded %s", v.ContentDigest, d.ContentDigest)
	}
	check := v
	check.Sealed = &AuditEvent{Seq: le.seq, Type: AuditImport, Subject: subject}
	check.Sealed.Data, _ = json.Marshal(eventFields{ContentDigest: v.ContentDigest, ServedDigest: d.ServedDigest, Packages: d.Packages})
	if err := CheckSealed(check); err != nil {
		var ie *IntegrityError
		if errors.As(err, &ie) {
			add(MismatchVersion, "%s", ie.Reason)
		}
	}
	if v.Status != le.status {
		add(MismatchStatus, "stored status %s, the chain's last transition leaves it %s", v.Status, le.status)
	}
	if !samePackages(pkgs, d.Packages) {
		add(MismatchPackages, "stored packages %s, the chain recorded %s", packagesString(pkgs), packagesString(d.Packages))
	}
	return out
}

// Missing returns a mismatch for every version the chain created that Check never saw.
func (l *Ledger) Missing() []Mismatch {
	var out []Mismatch
	for subject, le := range l.m {
		if !le.seen {
			out = append(out, Mismatch{Subject: subject, Kind: MismatchMissing, Seq: le.seq, Detail: "the chain created this version but no row holds it"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	return out
}

func samePackages(a, b []PinnedPackage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func packagesString(ps []PinnedPackage) string {
	b, _ := json.Marshal(ps)
	return string(b)
}

// IntegritySource is what VerifyStore reads: the chain, its head row, every version and its
// packages.
type IntegritySource interface {
	AuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error)
	// AuditHead returns the head row: the seq and hash of the newest event as recorded
	// beside the chain (0, "" for an empty chain).
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	ListVersionsPage(ctx context.Context, q ListQuery) ([]Version, bool, error)
	PinnedPackages(ctx context.Context, k Key) ([]PinnedPackage, error)
}

// StoreReport is what VerifyStore found.
type StoreReport struct {
	// OK is true when the chain is intact, ends where the head says, and every stored
	// version agrees with it.
	OK     bool   `json:"ok"`
	Events int64  `json:"events"`
	Head   string `json:"head,omitempty"`
	// Break says where the chain breaks (nil when intact).
	Break *ChainError `json:"break,omitempty"`
	// Versions is how many stored versions were compared with the chain.
	Versions int `json:"versions"`
	// Mismatches name every stored row that disagrees with the chain.
	Mismatches []Mismatch `json:"mismatches"`
}

// AllStatuses lists every status.
var AllStatuses = []Status{StatusPublished, StatusPendingReview, StatusRejected, StatusQuarantined, StatusDeprecated, StatusDeleted}

// VerifyStore verifies the chain (against expectHead when given, else against the store's
// head row) and, when it is intact, compares every stored version with it.
func VerifyStore(ctx context.Context, src IntegritySource, expectHead string) (StoreReport, error) {
	rep := StoreReport{Mismatches: []Mismatch{}}
	var (
		v     ChainVerifier
		l     Ledger
		after int64
		brk   error
	)
	headSeq, headHash, err := src.AuditHead(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the audit head: %w", err)
	}
	for brk == nil {
		es, err := src.AuditEvents(ctx, after, 1000)
		if err != nil {
			return rep, fmt.Errorf("read the audit chain: %w", err)
		}
		if len(es) == 0 {
			if expectHead != "" {
				brk = v.Finish(expectHead)
			} else {
				brk = v.FinishHead(headSeq, headHash)
			}
			break
		}
		for _, e := range es {
			if brk = v.Next(e); brk != nil {
				break
			}
			l.Add(e)
		}
		after = es[len(es)-1].Seq
	}
	last, n := v.Head()
	rep.Events = n
	if last != nil {
		rep.Head = last.Hash
	}
	if brk != nil {
		if !errors.As(brk, &rep.Break) {
			return rep, brk
		}
		return rep, nil
	}
	q := ListQuery{Limit: 1000, Statuses: AllStatuses}
	for {
		page, more, err := src.ListVersionsPage(ctx, q)
		if err != nil {
			return rep, fmt.Errorf("read the versions: %w", err)
		}
		for _, ver := range page {
			pkgs, err := src.PinnedPackages(ctx, ver.Key())
			if err != nil {
				return rep, fmt.Errorf("read the packages of %s@%s: %w", ver.Name, ver.Version, err)
			}
			rep.Versions++
			rep.Mismatches = append(rep.Mismatches, l.Check(ver, pkgs)...)
		}
		if !more || len(page) == 0 {
			break
		}
		k := page[len(page)-1].Key()
		q.After = &k
	}
	rep.Mismatches = append(rep.Mismatches, l.Missing()...)
	rep.OK = len(rep.Mismatches) == 0
	return rep, nil
}
