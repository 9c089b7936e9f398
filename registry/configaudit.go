package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ConfigAuditStore is what AuditConfig needs from storage.
type ConfigAuditStore interface {
	AuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error)
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
}

// AuditConfig appends a config.change event for component when cfg (any JSON value)
// differs from the last configuration recorded for it, so the chain says which policies
// decided what. It returns whether it appended. A broken chain is ErrAuditChain (wrapped).
func AuditConfig(ctx context.Context, store ConfigAuditStore, component string, cfg any, at time.Time) (bool, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return false, fmt.Errorf("audit config %s: %w", component, err)
	}
	digest := Digest(raw)
	last := ""
	for after := int64(0); ; {
		es, err := store.AuditEvents(ctx, after, 10000)
		if err != nil {
			return false, fmt.Errorf("read the audit chain: %w", err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if e.Type == AuditConfigChange && e.Subject == component {
				var d struct {
					Digest string `json:"digest"`
				}
				_ = json.Unmarshal(e.Data, &d)
				last = d.Digest
			}
		}
		after = es[len(es)-1].Seq
	}
	if last == digest {
		return false, nil
	}
	data, err := json.Marshal(map[string]any{"digest": digest, "config": json.RawMessage(raw)})
	if err != nil {
		return false, err
	}
	if _, err := store.AppendAudit(ctx, AuditEvent{Time: at, Type: AuditConfigChange, Actor: "vetted", Subject: component, Data: data}); err != nil {
		return false, err
	}
	return true, nil
}

// VouchStore is what a Voucher reads.
type VouchStore interface {
	VersionRecord(ctx context.Context, k Key) (VersionRecord, error)
	PinnedPackages(ctx context.Context, k Key) ([]PinnedPackage, error)
	// GetVersion gives the served metadata (the PyPI files every one of which the VSA
	// names).
	GetVersion(ctx context.Context, k Key) (Version, error)
}

// Voucher signs the registry's attestation (VSA) for a recorded version, as the security
// desk needs when a reviewer approves a version out of pending_review.
type Voucher struct {
	store  VouchStore
	signer VSASigner
	clock  func() time.Time
}

// NewVoucher returns a Voucher; clock nil is time.Now.
func NewVoucher(store VouchStore, signer VSASigner, clock func() time.Time) *Voucher {
	if clock == nil {
		clock = time.Now
	}
	return &Voucher{store: store, signer: signer, clock: clock}
}

// Vouch signs the VSA over k's recorded evidence and pinned digests.
func (v *Voucher) Vouch(ctx context.Context, k Key) ([]byte, error) {
	rec, err := v.store.VersionRecord(ctx, k)
	if err != nil {
		return nil, err
	}
	pinned, err := v.store.PinnedPackages(ctx, k)
	if err != nil {
		return nil, err
	}
	ver, err := v.store.GetVersion(ctx, k)
	if err != nil {
		return nil, err
	}
	var meta VettedMeta
	if len(ver.Vetted) > 0 {
		if err := json.Unmarshal(ver.Vetted, &meta); err != nil {
			return nil, fmt.Errorf("vouch for %s@%s: its served metadata: %w", k.Name, k.Version, err)
		}
	}
	return VouchFor(v.signer, rec, pinned, meta.PyPI, v.clock())
}
