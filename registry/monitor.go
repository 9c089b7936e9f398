package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Rescanner scans a stored SBOM package list again against the current OSV snapshot.
type Rescanner interface {
	Rescan(ctx context.Context, packages json.RawMessage, product ScanProduct) (*ScanOutcome, error)
}

// MonitorStore is what continuous scanning needs from storage: the exceptions too, since a
// re-scan honours the findings a reviewer accepted for the version.
type MonitorStore interface {
	LifecycleStore
	ExceptionStore
	GetVersion(ctx context.Context, k Key) (Version, error)
}

// Change is one status change made by continuous scanning (or a reviewer), as webhooks
// receive it.
type Change struct {
	Event    string    `json:"event"` // "quarantined" or "released"
	Server   string    `json:"server"`
	Version  string    `json:"version"`
	Snapshot string    `json:"snapshot"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Monitor keeps published versions honest as the OSV mirror moves: every re-scan checks each
// published and quarantined version against the current snapshot; a published version that
// now fails the scan policy is quarantined (hidden from clients, audited), unless every
// finding that fails it is accepted by an active exception of that version, and a version
// the scanner quarantined is released when a new snapshot or a VEX statement clears it.
type Monitor struct {
	store   MonitorStore
	scanner Rescanner
	clock   func() time.Time
	log     *slog.Logger
}

// NewMonitor returns a Monitor.
func NewMonitor(store MonitorStore, scanner Rescanner, clock func() time.Time, log *slog.Logger) *Monitor {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Monitor{store: store, scanner: scanner, clock: clock, log: log}
}

// RescanReport is what one re-scan did.
type RescanReport struct {
	Snapshot string   `json:"snapshot"`
	Scanned  int      `json:"scanned"`
	Failed   int      `json:"failed"` // versions that could not be re-scanned (left as they were)
	Changes  []Change `json:"changes"`
}

// RescanAll re-scans every published and quarantined version.
func (m *Monitor) RescanAll(ctx context.Context) (*RescanReport, error) {
	items, err := m.store.RescanItems(ctx, StatusPublished, StatusQuarantined)
	if err != nil {
		return nil, fmt.Errorf("rescan: list versions: %w", err)
	}
	rep := &RescanReport{Changes: []Change{}}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		ch, snap, err := m.rescanOne(ctx, it)
		if err != nil {
			rep.Failed++
			m.log.Warn("rescan failed", slog.String("server", it.Key.Name), slog.String("version", it.Key.Version), slog.String("error", err.Error()))
			continue
		}
		rep.Scanned++
		rep.Snapshot = snap
		if ch != nil {
			rep.Changes = append(rep.Changes, *ch)
		}
	}
	return rep, nil
}

func (m *Monitor) rescanOne(ctx context.Context, it RescanItem) (*Change, string, error) {
	var lists []json.RawMessage
	if len(it.SBOMPackages) == 0 {
		return nil, "", errors.New("no stored SBOM package list")
	}
	if err := json.Unmarshal(it.SBOMPackages, &lists); err != nil {
		return nil, "", fmt.Errorf("stored SBOM package lists: %w", err)
	}
	var outs []*ScanOutcome
	for i, l := range lists {
		prod := ScanProduct{ServerName: it.Key.Name, Version: it.Key.Version}
		if i < len(it.Packages) {
			prod.Digest = it.Packages[i].Digest
		}
		out, err := m.scanner.Rescan(ctx, l, prod)
		if err != nil {
			return nil, "", err
		}
		outs = append(outs, out)
	}
	if len(outs) == 0 {
		return nil, "", errors.New("empty SBOM package list")
	}
	sum := mergeScanSummaries(outs)
	var old ScanSummary
	_ = json.Unmarshal(it.ScanSummary, &old)
	report := outs[0].Report
	if len(outs) > 1 {
		var reports []json.RawMessage
		for _, o := range outs {
			reports = append(reports, o.Report)
		}
		report, _ = json.Marshal(reports)
	}
	sumJSON, err := json.Marshal(sum)
	if err != nil {
		return nil, "", err
	}
	now := m.clock().UTC()
	t := Transition{Key: it.Key, From: []Status{it.Status}, To: it.Status, At: now,
		Scan: &ScanUpdate{Snapshot: sum.SnapshotID, Report: report, Summary: sumJSON}}
	var ch *Change
	switch {
	case it.Status == StatusPublished && sum.Outcome == Fail:
		ex, err := m.excuse(ctx, it.Key, outs, now)
		if err != nil {
			return nil, "", err
		}
		if ex.covered() {
			if it.Snapshot == sum.SnapshotID && old.Outcome == sum.Outcome {
				return nil, sum.SnapshotID, nil // nothing new
			}
			t.Audit = m.audit(AuditExceptionApply, it.Key, now, sum,
				"the re-scan fails the scan policy only on findings an active exception accepts: "+ex.list(ex.failing), ex.data())
			break
		}
		t.To = StatusQuarantined
		t.Reason = ReasonVulnerability
		why, reason := "the re-scan against a new OSV snapshot fails the scan policy", sum.Reason
		if len(ex.uncovered) > 0 {
			why += " on findings no active exception accepts: " + ex.list(ex.uncovered)
			reason = "not accepted by the version's exception: " + ex.list(ex.uncovered) + "; " + sum.Reason
		}
		ch = &Change{Event: "quarantined", Reason: reason}
		t.Audit = m.audit(AuditQuarantine, it.Key, now, sum, why, ex.data())
	case it.Status == StatusQuarantined && old.Outcome == Fail && sum.Outcome == Pass:
		// Only what the scanner quarantined is released by it; a version quarantined by a
		// person (its stored scan passed) waits for a person.
		t.To = StatusPublished
		ch = &Change{Event: "released", Reason: "the re-scan passes the scan policy: " + sum.Reason}
		t.Audit = m.audit(AuditRelease, it.Key, now, sum, "a new OSV snapshot or a VEX statement cleared the findings", nil)
	case it.Snapshot == sum.SnapshotID && old.Outcome == sum.Outcome:
		return nil, sum.SnapshotID, nil // nothing new
	}
	if v, err := m.store.GetVersion(ctx, it.Key); err == nil && len(v.Vetted) > 0 {
		var meta VettedMeta
		if json.Unmarshal(v.Vetted, &meta) == nil {
			meta.Scan = &sum
			if b, err := json.Marshal(meta); err == nil {
				t.Vetted = b
			}
		}
	}
	if _, err := m.store.Transition(ctx, t); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, sum.SnapshotID, nil // a reviewer moved it meanwhile
		}
		return nil, "", err
	}
	if ch != nil {
		ch.Server, ch.Version, ch.Snapshot, ch.At = it.Key.Name, it.Key.Version, sum.SnapshotID, now
		m.log.Info("version "+ch.Event, slog.String("server", ch.Server), slog.String("version", ch.Version), slog.String("snapshot", ch.Snapshot))
	}
	return ch, sum.SnapshotID, nil
}

func (m *Monitor) audit(typ string, k Key, now time.Time, sum ScanSummary, why string, extra map[string]any) AuditEvent {
	fields := map[string]any{"why": why, "snapshot": sum.SnapshotID, "outcome": sum.Outcome, "reason": sum.Reason, "findings": sum.Findings}
	for name, v := range extra {
		fields[name] = v
	}
	data, _ := json.Marshal(fields)
	return AuditEvent{Time: now, Type: typ, Actor: "vetted", Subject: k.Name + "@" + k.Version, Data: data}
}
