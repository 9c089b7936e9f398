package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
)

// POST {prefix}/validate: the publish pipeline as a dry run (`mcp-publisher validate`).
// Every check a publish would run runs, nothing is recorded, and the answer carries both
// upstream's ValidationResult ({"valid","issues"}) and the publish answer's Vetted decision.

// ValidationIssue is one issue in upstream's shape.
type ValidationIssue struct {
	Type      string `json:"type" enum:"json,schema,semantic,linter" doc:"Kind of issue"`
	Path      string `json:"path" doc:"Where: a package or a JSON pointer into server.json"`
	Message   string `json:"message"`
	Severity  string `json:"severity" enum:"error,warning,info"`
	Reference string `json:"reference" doc:"The Vetted check that raised it (vetted.<check>[.<rule>])"`
}

// ValidateResponse is upstream's ValidationResult with the decision a publish would get.
type ValidateResponse struct {
	Valid  bool              `json:"valid" doc:"false when a publish would be rejected"`
	Issues []ValidationIssue `json:"issues" doc:"Every failing check (error) and every check that asks for review (warning)"`
	Meta   ValidateMeta      `json:"_meta"`
}

// ValidateMeta carries Vetted's dry-run decision.
type ValidateMeta struct {
	Publish PublishDecision `json:"dev.vetted/publish" doc:"What a publish would decide now (created is always false: nothing was recorded)"`
}

const opValidate = "validate-server"

func registerValidate(api huma.API, s *Server, suffix string) {
	huma.Register(api, withPermission(huma.Operation{
		OperationID: opValidate + suffix,
		Method:      http.MethodPost,
		Path:        "/validate",
		Summary:     "Validate a server.json (dry-run publish)",
		Description: "Runs the whole publish pipeline on a server.json without recording anything and answers " +
			"what a publish would decide, in upstream's ValidationResult shape (valid, issues) with Vetted's " +
			"decision and checks in _meta. When the caller may not publish the name (an anonymous " +
			"`mcp-publisher validate`), the authorization check is skipped and the dry run is static: packages " +
			"are not resolved, verified or scanned and tools are not inspected (no outbound request), said so in warnings.",
		Tags:         []string{"publish"},
		MaxBodyBytes: registry.MaxServerJSON,
		Errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge,
			http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, PermRead), func(ctx context.Context, in *publishInput) (*struct{ Body ValidateResponse }, error) {
		cfg := s.publish
		if cfg == nil {
			return nil, huma.Error503ServiceUnavailable("publishing is not enabled on this registry")
		}
		raw := append([]byte(nil), in.RawBody...)
		bundle, err := decodeBundleHeader(in.ServerJSONBundle)
		if err != nil {
			return nil, err
		}
		actor, authz := cfg.Caller(ctx)
		var warnings []string
		doc, err := registry.ParseServerJSON(raw)
		if err != nil {
			return nil, publishProblem(s, err)
		}
		static := false
		if authz.AuthorizePublish(doc.Name) != nil {
			// Only a caller who may publish the name gets the full dry run: anyone else would
			// make the registry fetch, verify and scan on their behalf.
			warnings = append(warnings, "authorization not checked: this caller ("+auth.PrincipalFrom(ctx).ID()+
				") may not publish "+doc.Name+"; a publish checks it",
				"packages not resolved, verified or scanned, tools not inspected: a full dry run needs a token that may publish "+doc.Name)
			authz = registry.AuthorizerFunc(func(string) error { return nil })
			static = true
		}
		ev, err := cfg.Pipeline.Evaluate(ctx, registry.PublishRequest{ServerJSON: raw, Actor: actor, Authorizer: authz, ServerJSONBundle: bundle, Static: static})
		if err != nil {
			return nil, publishProblem(s, err)
		}
		checks := ev.Checks
		if len(warnings) > 0 {
			kept := checks[:0:0]
			for _, c := range checks {
				if c.Name != registry.CheckAuthorize {
					kept = append(kept, c)
				}
			}
			checks = kept
		}
		warnings = append(warnings, registry.ServerJSONWarnings(raw)...)
		out := ValidateResponse{
			Valid:  ev.Decision != registry.DecisionRejected,
			Issues: issuesOf(checks),
			Meta: ValidateMeta{Publish: PublishDecision{
				Decision: string(ev.Decision), Checks: checksWire(checks), Warnings: warnings,
			}},
		}
		return &struct{ Body ValidateResponse }{Body: out}, nil
	})
	documentPublishBody(api, opValidate+suffix)
}

// issuesOf turns the checks that did not pass into upstream's issues.
func issuesOf(cs []registry.Check) []ValidationIssue {
	out := []ValidationIssue{}
	for _, c := range cs {
		sev := ""
		switch c.Outcome {
		case registry.Fail:
			sev = "error"
		case registry.Review:
			sev = "warning"
		default:
			continue
		}
		path := c.Pointer
		if path == "" {
			path = c.Package
		}
		ref := "vetted." + c.Name
		if c.Rule != "" {
			ref += "." + c.Rule
		}
		typ := "semantic"
		if c.Rule != "" {
			typ = "linter"
		}
		out = append(out, ValidationIssue{Type: typ, Path: path, Message: c.Reason, Severity: sev, Reference: ref})
	}
	return out
}

// The status routes of upstream (`mcp-publisher status`). Vetted changes statuses through
// its review desk (quarantine, release) with an audited reason; these answer 501 in
// upstream's error shape, naming the route to use.

type statusInput struct {
	ServerName string `path:"serverName" doc:"URL-encoded server name"`
	Version    string `path:"version" doc:"URL-encoded server version"`
	RawBody    []byte
}

type allStatusInput struct {
	ServerName string `path:"serverName" doc:"URL-encoded server name"`
	RawBody    []byte
}

const statusAdvice = "status changes on Vetted go through the review desk, with a reason that is audited: " +
	"POST " + ReviewPrefix + "/servers/{serverName}/versions/{version}/quarantine (reviewer or admin token; see docs/interop.md)"

func registerStatusRoutes(api huma.API, suffix string) {
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "update-server-status" + suffix, Method: http.MethodPatch,
		Path:    "/servers/{serverName}/versions/{version}/status",
		Summary: "Not implemented: change a version's status", Tags: []string{"servers"},
		Description: "Answers 501: " + statusAdvice + ".",
		Errors:      []int{http.StatusNotImplemented},
	}, PermRead), func(context.Context, *statusInput) (*struct{}, error) {
		return nil, huma.NewError(http.StatusNotImplemented, "Not Implemented: "+statusAdvice)
	})
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "update-server-status-all-versions" + suffix, Method: http.MethodPatch,
		Path:    "/servers/{serverName}/status",
		Summary: "Not implemented: change the status of every version", Tags: []string{"servers"},
		Description: "Answers 501: " + statusAdvice + ".",
		Errors:      []int{http.StatusNotImplemented},
	}, PermRead), func(context.Context, *allStatusInput) (*struct{}, error) {
		return nil, huma.NewError(http.StatusNotImplemented, "Not Implemented: "+statusAdvice)
	})
}
