package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// ReviewPrefix is where the security team's API lives (an extension under Vetted's
// namespace, as the official registry's extension convention asks).
const ReviewPrefix = "/v0.1/x/dev.vetted/review"

// ReviewConfig enables the security team's API: the review queue and decisions, hand-made
// quarantine and release, scan reports and findings, VEX documents and the audit log. Every
// operation needs PermReview; every action is audited with the caller as actor.
type ReviewConfig struct {
	// Desk does the work. Required.
	Desk *registry.Desk
	// Actor returns who the authenticated caller is ("<issuer>|<subject>"), "" when none.
	// Required.
	Actor func(ctx context.Context) string
	// ToolVersion is Vetted's version, named in SARIF output.
	ToolVersion string
}

// WithReview enables the security team's API.
func WithReview(cfg ReviewConfig) Option {
	return func(o *options) error {
		if cfg.Desk == nil || cfg.Actor == nil {
			return errors.New("api: the review API needs a desk and an actor function")
		}
		o.review = &cfg
		return nil
	}
}

// maxReviewBody bounds the body of a review action (a reason of at most
// registry.MaxReasonBytes, JSON-escaped).
const maxReviewBody = 8 * registry.MaxReasonBytes

// reviewOp declares a reviewer operation. Without WithReview it answers 404 (the operations
// are registered anyway, so that the OpenAPI document describes them).
func (s *Server) reviewOp(api huma.API, id, method, path, summary, desc string, errs ...int) huma.Operation {
	return withPermission(huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Description: desc,
		Tags: []string{"review"},
		// A reason is at most registry.MaxReasonBytes; nothing a reviewer sends needs more.
		MaxBodyBytes: maxReviewBody,
		Errors:       append([]int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}, errs...),
		Middlewares: huma.Middlewares{func(ctx huma.Context, next func(huma.Context)) {
			if s.review == nil {
				_ = huma.WriteErr(api, ctx, http.StatusNotFound, "the review API is not enabled on this registry")
				return
			}
			// What reviewers read is not for shared caches, nor to be kept.
			ctx.SetHeader("Cache-Control", "no-store")
			next(ctx)
		}},
	}, PermReview)
}

// reviewProblem maps desk errors: a FieldError names the field in the problem's details.
func (s *Server) reviewProblem(err error) error {
	var fe *registry.FieldError
	if errors.As(err, &fe) {
		return huma.NewError(http.StatusBadRequest, "invalid "+fe.Field+": "+fe.Reason,
			&huma.ErrorDetail{Location: "body." + fe.Field, Message: fe.Reason})
	}
	return problem(s.log, err)
}

func (s *Server) actor(ctx context.Context) (string, error) {
	a := s.review.Actor(ctx)
	if a == "" {
		return "", huma.Error401Unauthorized("this operation needs an authenticated reviewer")
	}
	return a, nil
}

// VersionParams name a version in a path.
type VersionParams struct {
	ServerName string `path:"serverName" doc:"URL-encoded server name" example:"io.github.acme%2Fweather"`
	Version    string `path:"version" doc:"URL-encoded server version" example:"1.0.0"`
}

func (p VersionParams) key() (registry.Key, error) {
	name, err := pathName(p.ServerName)
	if err != nil {
		return registry.Key{}, err
	}
	v, err := pathVersion(p.Version)
	if err != nil {
		return registry.Key{}, err
	}
	return registry.Key{Name: name, Version: v}, nil
}

// ReasonBody is the body of every review action.
type ReasonBody struct {
	Reason string `json:"reason" minLength:"1" maxLength:"4096" doc:"Why, in the reviewer's words; recorded in the audit chain"`
}

type actionInput struct {
	VersionParams
	Body ReasonBody
}

// ActionResult is the version after a review action.
type ActionResult struct {
	Server    string    `json:"server"`
	Version   string    `json:"version"`
	Status    string    `json:"status" doc:"The version's status after the action"`
	Action    string    `json:"action" enum:"approve,reject,quarantine,release"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// QueueItem is a version waiting for review and why.
type QueueItem struct {
	Server      string        `json:"server"`
	Version     string        `json:"version"`
	PublishedAt time.Time     `json:"publishedAt"`
	Publisher   string        `json:"publisher,omitempty" doc:"Who published it"`
	Why         []ReviewCause `json:"why" doc:"The checks that asked for a person"`
}

// ReviewCause is one reason a version waits for review.
type ReviewCause struct {
	Kind    string `json:"kind" doc:"tool definition changed, lint finding, look-alike namespace, exception needed, …"`
	Check   string `json:"check"`
	Package string `json:"package,omitempty"`
	Reason  string `json:"reason"`
}

// QueuePage is a page of the review queue.
type QueuePage struct {
	Items      []QueueItem `json:"items"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// Causes converts a queue item's checks.
func Causes(checks []registry.Check) []ReviewCause {
	out := make([]ReviewCause, 0, len(checks))
	for _, c := range checks {
		out = append(out, ReviewCause{Kind: registry.ReviewKind(c.Name), Check: c.Name, Package: c.Package, Reason: c.Reason})
	}
	return out
}

func registerReview(api huma.API, s *Server) {
	type queueInput struct {
		Cursor string `query:"cursor" doc:"nextCursor of the previous page"`
		Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"30"`
	}
	huma.Register(api, s.reviewOp(api, "list-review-queue", http.MethodGet, ReviewPrefix+"/queue", "Review queue",
		"Versions waiting in pending_review, with why: a tool definition changed, a lint finding, a look-alike namespace, an exception needed."),
		func(ctx context.Context, in *queueInput) (*struct{ Body QueuePage }, error) {
			var after *registry.Key
			if in.Cursor != "" {
				k, err := decodeCursor(in.Cursor)
				if err != nil {
					return nil, s.reviewProblem(badParam("query.cursor", nil, "%v", err))
				}
				after = &k
			}
			items, more, err := s.review.Desk.Queue(ctx, after, in.Limit)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			page := QueuePage{Items: make([]QueueItem, 0, len(items))}
			for _, it := range items {
				qi := QueueItem{Server: it.Version.Name, Version: it.Version.Version, PublishedAt: it.Version.PublishedAt, Why: Causes(it.Why)}
				if it.Record != nil {
					qi.Publisher = it.Record.Actor
				}
				page.Items = append(page.Items, qi)
			}
			if more && len(items) > 0 {
				page.NextCursor = encodeCursor(items[len(items)-1].Version.Key())
			}
			return &struct{ Body QueuePage }{Body: page}, nil
		})

	type decisionInput struct {
		VersionParams
		Body DecisionBody
	}
	decisions := []struct {
		name, summary, desc string
		fn                  func(*registry.Desk, context.Context, registry.Action) (registry.Version, error)
	}{
		{registry.ActionApprove, "Approve a version", "Publishes a version waiting in pending_review (409 otherwise).", (*registry.Desk).Approve},
		{registry.ActionRelease, "Release a version", "Publishes a quarantined version again (409 when it is not quarantined).", (*registry.Desk).Release},
	}
	for _, a := range decisions {
		huma.Register(api, s.reviewOp(api, a.name+"-version", http.MethodPost, ReviewPrefix+"/servers/{serverName}/versions/{version}/"+a.name,
			a.summary, a.desc+" The reason is required and recorded, with the caller, in the audit chain. An exception accepts findings of the version with that reason, optionally until an expiry; each finding named must be one the version has (400 otherwise).",
			http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
			func(ctx context.Context, in *decisionInput) (*struct{ Body ActionResult }, error) {
				k, err := in.key()
				if err != nil {
					return nil, s.reviewProblem(err)
				}
				actor, err := s.actor(ctx)
				if err != nil {
					return nil, err
				}
				v, err := a.fn(s.review.Desk, ctx, registry.Action{Key: k, Actor: actor, Reason: in.Body.Reason, Exception: in.Body.Exception.request()})
				if err != nil {
					return nil, s.reviewProblem(notFound(err, "version %q of server %q", k.Version, k.Name))
				}
				s.Invalidate()
				return &struct{ Body ActionResult }{Body: ActionResult{Server: v.Name, Version: v.Version, Status: string(v.Status),
					Action: a.name, Reason: in.Body.Reason, Actor: actor, UpdatedAt: v.UpdatedAt}}, nil
			})
	}

	actions := []struct {
		name, summary, desc string
		fn                  func(*registry.Desk, context.Context, registry.Action) (registry.Version, error)
	}{
		{registry.ActionReject, "Reject a version", "Rejects a version waiting in pending_review (409 otherwise).", (*registry.Desk).Reject},
		{registry.ActionQuarantine, "Quarantine a version", "Hides a published version from clients at once (409 when it is not published).", (*registry.Desk).Quarantine},
	}
	for _, a := range actions {
		huma.Register(api, s.reviewOp(api, a.name+"-version", http.MethodPost, ReviewPrefix+"/servers/{serverName}/versions/{version}/"+a.name,
			a.summary, a.desc+" The reason is required and recorded, with the caller, in the audit chain.",
			http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity),
			func(ctx context.Context, in *actionInput) (*struct{ Body ActionResult }, error) {
				k, err := in.key()
				if err != nil {
					return nil, s.reviewProblem(err)
				}
				actor, err := s.actor(ctx)
				if err != nil {
					return nil, err
				}
				v, err := a.fn(s.review.Desk, ctx, registry.Action{Key: k, Actor: actor, Reason: in.Body.Reason})
				if err != nil {
					return nil, s.reviewProblem(notFound(err, "version %q of server %q", k.Version, k.Name))
				}
				s.Invalidate()
				return &struct{ Body ActionResult }{Body: ActionResult{Server: v.Name, Version: v.Version, Status: string(v.Status),
					Action: a.name, Reason: in.Body.Reason, Actor: actor, UpdatedAt: v.UpdatedAt}}, nil
			})
	}
}

// registerReviewAPI registers every operation of the security team's API.
func registerReviewAPI(api huma.API, s *Server) {
	api.OpenAPI().Tags = append(api.OpenAPI().Tags, &huma.Tag{Name: "review",
		Description: "The security team's workspace: review queue and decisions, quarantine, scan reports, VEX, audit log (reviewer role)"})
	registerReview(api, s)
	registerReviewVersion(api, s)
	registerExceptions(api, s)
	registerReports(api, s)
	registerVEX(api, s)
	registerAudit(api, s)
}
