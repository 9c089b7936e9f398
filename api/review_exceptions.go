package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// ExceptionBody accepts findings of the version an approval or a release acts on.
type ExceptionBody struct {
	Findings []ExceptedFindingBody `json:"findings" minItems:"1" maxItems:"100" doc:"The findings accepted: lint findings by tool, rule and pointer, vulnerabilities by id or alias, or [{\"kind\":\"all\"}]; each must be one the version has"`
	Expires  *time.Time            `json:"expires,omitempty" doc:"When the exception ends (RFC 3339, in the future); the version is then re-evaluated and, when published with an accepted finding still there, goes back to pending_review. Optional."`
}

// ExceptedFindingBody names one finding.
type ExceptedFindingBody struct {
	Kind          string `json:"kind" enum:"lint,vulnerability,all"`
	Tool          string `json:"tool,omitempty" maxLength:"256" doc:"lint: the tool's name"`
	Rule          string `json:"rule,omitempty" maxLength:"64" doc:"lint: the rule id (e.g. TM601)"`
	Pointer       string `json:"pointer,omitempty" maxLength:"1024" doc:"lint: the JSON pointer of the offending value within the tool's definition"`
	Vulnerability string `json:"vulnerability,omitempty" maxLength:"256" doc:"vulnerability: its id or an alias (GHSA-…, CVE-…)"`
}

// DecisionBody is the body of an approval or a release: a reason and, optionally, the
// findings accepted with it.
type DecisionBody struct {
	Reason    string         `json:"reason" minLength:"1" maxLength:"4096" doc:"Why, in the reviewer's words; recorded in the audit chain (and as the exception's reason)"`
	Exception *ExceptionBody `json:"exception,omitempty" doc:"Accept findings of this version, optionally until an expiry"`
}

func (b *ExceptionBody) request() *registry.ExceptionRequest {
	if b == nil {
		return nil
	}
	r := &registry.ExceptionRequest{Expires: b.Expires, Findings: make([]registry.ExceptedFinding, 0, len(b.Findings))}
	for _, f := range b.Findings {
		r.Findings = append(r.Findings, registry.ExceptedFinding{Kind: f.Kind, Tool: f.Tool, Rule: f.Rule, Pointer: f.Pointer, Vulnerability: f.Vulnerability})
	}
	return r
}

// ExceptionView is a recorded exception.
type ExceptionView struct {
	registry.Exception
	Active bool `json:"active" doc:"Whether it is in effect now (not ended, not expired)"`
}

// ExceptionList is a version's exceptions, oldest first.
type ExceptionList struct {
	Exceptions []ExceptionView `json:"exceptions"`
}

func exceptionViews(es []registry.Exception, now time.Time) []ExceptionView {
	out := make([]ExceptionView, 0, len(es))
	for _, e := range es {
		if e.Findings == nil {
			e.Findings = []registry.ExceptedFinding{}
		}
		out = append(out, ExceptionView{Exception: e, Active: e.Active(now)})
	}
	return out
}

// RevokedException is an exception a reviewer ended, and its version afterwards.
type RevokedException struct {
	Exception ExceptionView `json:"exception"`
	Status    string        `json:"status" doc:"The version's status after the re-evaluation"`
}

func registerExceptions(api huma.API, s *Server) {
	type listInput struct {
		VersionParams
	}
	huma.Register(api, s.reviewOp(api, "list-version-exceptions", http.MethodGet, ReviewPrefix+"/servers/{serverName}/versions/{version}/exceptions",
		"A version's exceptions", "The findings reviewers accepted for this version, oldest first, ended ones included.", http.StatusNotFound),
		func(ctx context.Context, in *listInput) (*struct{ Body ExceptionList }, error) {
			k, err := in.key()
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			es, err := s.review.Desk.Exceptions(ctx, k)
			if err != nil {
				return nil, s.reviewProblem(notFound(err, "version %q of server %q", k.Version, k.Name))
			}
			return &struct{ Body ExceptionList }{Body: ExceptionList{Exceptions: exceptionViews(es, time.Now())}}, nil
		})

	type revokeInput struct {
		ID   string `path:"id" maxLength:"64" doc:"The exception's id"`
		Body ReasonBody
	}
	huma.Register(api, s.reviewOp(api, "revoke-exception", http.MethodPost, ReviewPrefix+"/exceptions/{id}/revoke", "Revoke an exception",
		"Ends an exception before its expiry. The version is re-evaluated: a published version whose accepted findings remain goes back to pending_review. 409 when it already ended.",
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *revokeInput) (*struct{ Body RevokedException }, error) {
			actor, err := s.actor(ctx)
			if err != nil {
				return nil, err
			}
			e, v, err := s.review.Desk.RevokeException(ctx, in.ID, actor, in.Body.Reason)
			if err != nil {
				return nil, s.reviewProblem(notFound(err, "exception %q", in.ID))
			}
			s.Invalidate()
			return &struct{ Body RevokedException }{Body: RevokedException{Exception: exceptionViews([]registry.Exception{e}, time.Now())[0], Status: string(v.Status)}}, nil
		})
}
