package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// AuditLogPage is a page of the audit log.
type AuditLogPage struct {
	Events []registry.AuditEvent `json:"events"`
	// Next is the "after" of the next page; absent when the chain is exhausted.
	Next int64 `json:"next,omitempty"`
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	Type    string    `query:"type" maxLength:"64" doc:"Exact event type (publish.decision, review.decision, version.quarantine, version.release, vex.statement, …)"`
	Actor   string    `query:"actor" maxLength:"512" doc:"Keep events whose actor contains this"`
	Subject string    `query:"subject" maxLength:"512" doc:"Keep events whose subject contains this"`
	Since   time.Time `query:"since" doc:"Keep events at or after this time (RFC 3339)"`
	Until   time.Time `query:"until" doc:"Keep events before this time (RFC 3339)"`
}

func (in AuditQuery) filter() registry.AuditFilter {
	return registry.AuditFilter{Type: in.Type, Actor: in.Actor, Subject: in.Subject, Since: in.Since, Until: in.Until}
}

func registerAudit(api huma.API, s *Server) {
	type pageInput struct {
		AuditQuery
		After int64 `query:"after" minimum:"0" doc:"Return events after this sequence number (the previous page's next)"`
		Limit int   `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	}
	huma.Register(api, s.reviewOp(api, "list-audit-log", http.MethodGet, ReviewPrefix+"/audit", "Audit log",
		"Events of the append-only audit chain in sequence order, filtered. Page with after=next."),
		func(ctx context.Context, in *pageInput) (*struct{ Body AuditLogPage }, error) {
			es, next, err := s.review.Desk.Audit(ctx, in.After, in.Limit, in.filter())
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			return &struct{ Body AuditLogPage }{Body: AuditLogPage{Events: es, Next: next}}, nil
		})

	type exportInput struct {
		AuditQuery
	}
	op := s.reviewOp(api, "export-audit-log", http.MethodGet, ReviewPrefix+"/audit.jsonl", "Export the audit log",
		"Every matching event as JSON Lines (one event per line, in sequence order): the chain can be verified offline.")
	op.Responses = map[string]*huma.Response{"200": {Description: "JSON Lines", Content: map[string]*huma.MediaType{"application/jsonl": {Schema: &huma.Schema{Type: "string"}}}}}
	huma.Register(api, op, func(ctx context.Context, in *exportInput) (*reviewRawOutput, error) {
		f := in.filter()
		return &reviewRawOutput{Body: func(c huma.Context) {
			c.SetHeader("Content-Type", "application/jsonl")
			c.SetHeader("Content-Disposition", `attachment; filename="vetted-audit.jsonl"`)
			c.SetHeader("Cache-Control", "no-store")
			c.SetStatus(http.StatusOK)
			enc := json.NewEncoder(c.BodyWriter())
			n := 0
			err := s.review.Desk.EachAudit(ctx, f, func(e registry.AuditEvent) error {
				n++
				return enc.Encode(e)
			})
			if err != nil {
				// The status is already sent: the export ends early; the log says why.
				s.log.Error("audit export failed", "events", strconv.Itoa(n), logKeyError, err.Error())
			}
		}}, nil
	})

	huma.Register(api, s.reviewOp(api, "verify-audit-chain", http.MethodGet, ReviewPrefix+"/audit/verify", "Verify the audit chain",
		"Reads the whole chain and checks every hash and link; says where and how it is broken if it is."),
		func(ctx context.Context, _ *struct{}) (*struct{ Body registry.ChainStatus }, error) {
			st, err := s.review.Desk.VerifyAudit(ctx)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			return &struct{ Body registry.ChainStatus }{Body: st}, nil
		})
}
