package registry

import (
	"context"
	"encoding/json"
	"sync"
)

// rejectionTally counts rejections read from the audit chain so far, so that each call reads
// only the events appended since the last.
type rejectionTally struct {
	mu    sync.Mutex
	after int64
	n     int
}

// Rejections is how many rejections the audit chain records: publishes the pipeline
// rejected (which are not stored as versions) and versions a reviewer rejected. The first
// call reads the whole chain; later calls read only the events appended since.
func (d *Desk) Rejections(ctx context.Context) (int, error) {
	t := &d.rej
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		es, err := d.store.AuditEvents(ctx, t.after, auditBatch)
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			t.after = e.Seq
			if isRejection(e) {
				t.n++
			}
		}
		if len(es) < auditBatch {
			return t.n, nil
		}
	}
}

func isRejection(e AuditEvent) bool {
	var d struct {
		Decision string `json:"decision"`
		Action   string `json:"action"`
	}
	switch e.Type {
	case AuditPublishDecision:
		return json.Unmarshal(e.Data, &d) == nil && d.Decision == string(StatusRejected)
	case AuditReviewDecision:
		return json.Unmarshal(e.Data, &d) == nil && d.Action == ActionReject
	}
	return false
}
