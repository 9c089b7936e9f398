package auth

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// SecuritySchemeName is the OpenAPI security scheme of Vetted's bearer tokens.
const SecuritySchemeName = "bearer"

// PermissionOf tells what an operation requires: public operations (health, the OpenAPI
// document) need nothing; ok=false means the operation declares nothing, which is denied.
type PermissionOf func(op *huma.Operation) (perm Permission, public, ok bool)

// HumaMiddleware enforces each operation's declared permission (deny by default) with
// RequireAny; handlers of resource-scoped operations (publish) call Require with the
// resource. It expects Service.Middleware to have run on the request.
func HumaMiddleware(permOf PermissionOf) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		perm, public, ok := permOf(ctx.Operation())
		if public {
			next(ctx)
			return
		}
		if !ok {
			perm = Permission("undeclared")
		}
		if err := RequireAny(ctx.Context(), perm); err != nil {
			WriteHumaError(ctx, err)
			return
		}
		next(ctx)
	}
}

// WriteHumaError writes one of this package's errors through a huma context (status,
// challenge headers, problem document). Other errors become a plain 500 problem.
func WriteHumaError(ctx huma.Context, err error) {
	var (
		an *AuthnError
		de *DeniedError
		rl *RateLimitedError
		bt *BodyTooLargeError
		p  Problem
		hs http.Header
	)
	switch {
	case errors.As(err, &an):
		p, hs = an.Problem(), an.GetHeaders()
	case errors.As(err, &de):
		p, hs = de.Problem(), de.GetHeaders()
	case errors.As(err, &rl):
		p, hs = rl.Problem(), rl.GetHeaders()
	case errors.As(err, &bt):
		p = bt.Problem()
	default:
		p = Problem{Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError}
	}
	for k, vs := range hs {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// SecurityScheme is the OpenAPI description of the bearer scheme.
func SecurityScheme() *huma.SecurityScheme {
	return &huma.SecurityScheme{
		Type:         "http",
		Scheme:       "bearer",
		BearerFormat: "JWT",
		Description: "An OIDC JWT whose audience is this registry, from a configured issuer " +
			"(or the embedded one: `vetted token issue`). Tokens in the query string are refused. " +
			"See /.well-known/oauth-protected-resource (RFC 9728).",
	}
}

// SecurityRequirement is what an operation needing perm declares in OpenAPI: reading may
// be anonymous (the default configuration), everything else needs a bearer token.
func SecurityRequirement(perm Permission) []map[string][]string {
	bearer := map[string][]string{SecuritySchemeName: {}}
	if perm == PermRead {
		return []map[string][]string{bearer, {}}
	}
	return []map[string][]string{bearer}
}

// DeclareSecurity adds the bearer scheme to oapi and the security requirement and
// x-vetted-permission of every operation that permOf knows.
func DeclareSecurity(oapi *huma.OpenAPI, permOf PermissionOf) {
	if oapi.Components == nil {
		oapi.Components = &huma.Components{}
	}
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes[SecuritySchemeName] = SecurityScheme()
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Options, item.Head, item.Patch, item.Trace} {
			if op == nil {
				continue
			}
			perm, public, ok := permOf(op)
			if public || !ok {
				continue
			}
			op.Security = SecurityRequirement(perm)
			if op.Extensions == nil {
				op.Extensions = map[string]any{}
			}
			op.Extensions["x-vetted-permission"] = string(perm)
		}
	}
}
