package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/scan/vex"
)

// VEXUploadBody records an OpenVEX document.
type VEXUploadBody struct {
	Document json.RawMessage `json:"document" doc:"The OpenVEX document (JSON object)"`
	Products []string        `json:"products" minItems:"1" maxItems:"100" doc:"The scope: server names, name@version or image digests (sha256:…); every statement's products must lie within it"`
	Expires  *time.Time      `json:"expires,omitempty" doc:"When the document stops applying (RFC 3339); optional"`
	Reason   string          `json:"reason" minLength:"1" maxLength:"4096" doc:"Why; recorded in the audit chain"`
}

// VEXDocumentView is a recorded VEX document.
type VEXDocumentView struct {
	ID         string                  `json:"id"`
	Digest     string                  `json:"digest"`
	Products   []string                `json:"products"`
	Statements []vex.Statement         `json:"statements"`
	Expires    *time.Time              `json:"expires,omitempty"`
	Actor      string                  `json:"actor"`
	Reason     string                  `json:"reason"`
	UploadedAt time.Time               `json:"uploadedAt"`
	Withdrawn  *registry.VEXWithdrawal `json:"withdrawn,omitempty"`
	Active     bool                    `json:"active" doc:"Whether it applies now (not withdrawn, not expired)"`
	Document   json.RawMessage         `json:"document,omitempty" doc:"The document as uploaded (single-document reads only)"`
}

func vexView(d registry.VEXDocument, now time.Time, withDoc bool) VEXDocumentView {
	v := VEXDocumentView{ID: d.ID, Digest: d.Digest, Products: d.Products, Statements: d.Statements, Expires: d.Expires,
		Actor: d.Actor, Reason: d.Reason, UploadedAt: d.UploadedAt, Withdrawn: d.Withdrawn, Active: d.Active(now)}
	if v.Statements == nil {
		v.Statements = []vex.Statement{}
	}
	if withDoc {
		v.Document = d.Document
	}
	return v
}

// VEXList is the recorded VEX documents.
type VEXList struct {
	Documents []VEXDocumentView `json:"documents"`
}

func registerVEX(api huma.API, s *Server) {
	type uploadInput struct {
		Body VEXUploadBody
	}
	huma.Register(api, s.reviewOp(api, "upload-vex", http.MethodPost, ReviewPrefix+"/vex", "Record a VEX document",
		"Validates an OpenVEX document and records it for the products of its scope. Its statements apply at once to reports, findings and quarantine state.",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *uploadInput) (*struct{ Body VEXDocumentView }, error) {
			actor, err := s.actor(ctx)
			if err != nil {
				return nil, err
			}
			d, err := s.review.Desk.UploadVEX(ctx, registry.VEXUpload{Document: in.Body.Document, Products: in.Body.Products,
				Expires: in.Body.Expires, Actor: actor, Reason: in.Body.Reason})
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			s.Invalidate()
			return &struct{ Body VEXDocumentView }{Body: vexView(d, time.Now(), false)}, nil
		})

	type listInput struct {
		IncludeWithdrawn bool `query:"includeWithdrawn" doc:"Also list withdrawn documents"`
	}
	huma.Register(api, s.reviewOp(api, "list-vex", http.MethodGet, ReviewPrefix+"/vex", "VEX documents", "The recorded VEX documents, oldest first."),
		func(ctx context.Context, in *listInput) (*struct{ Body VEXList }, error) {
			ds, err := s.review.Desk.ListVEX(ctx, in.IncludeWithdrawn)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			now := time.Now()
			out := VEXList{Documents: make([]VEXDocumentView, 0, len(ds))}
			for _, d := range ds {
				out.Documents = append(out.Documents, vexView(d, now, false))
			}
			return &struct{ Body VEXList }{Body: out}, nil
		})

	type idInput struct {
		ID string `path:"id" maxLength:"64" doc:"The document's id"`
	}
	huma.Register(api, s.reviewOp(api, "get-vex", http.MethodGet, ReviewPrefix+"/vex/{id}", "A VEX document", "One recorded VEX document, with the document as uploaded.", http.StatusNotFound),
		func(ctx context.Context, in *idInput) (*struct{ Body VEXDocumentView }, error) {
			d, err := s.review.Desk.GetVEX(ctx, in.ID)
			if err != nil {
				return nil, s.reviewProblem(notFound(err, "VEX document %q", in.ID))
			}
			return &struct{ Body VEXDocumentView }{Body: vexView(d, time.Now(), true)}, nil
		})

	type withdrawInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body ReasonBody
	}
	huma.Register(api, s.reviewOp(api, "withdraw-vex", http.MethodPost, ReviewPrefix+"/vex/{id}/withdraw", "Withdraw a VEX document",
		"Its statements stop applying at once; versions they kept out of quarantine are re-evaluated.", http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
		func(ctx context.Context, in *withdrawInput) (*struct{ Body VEXDocumentView }, error) {
			actor, err := s.actor(ctx)
			if err != nil {
				return nil, err
			}
			d, err := s.review.Desk.WithdrawVEX(ctx, in.ID, actor, in.Body.Reason)
			if err != nil {
				return nil, s.reviewProblem(notFound(err, "VEX document %q", in.ID))
			}
			s.Invalidate()
			return &struct{ Body VEXDocumentView }{Body: vexView(d, time.Now(), false)}, nil
		})
}
