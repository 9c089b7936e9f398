package api

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/api/auth"
)

// Permission is what a caller must hold to run an operation. Every operation registered by
// this package declares one in its Metadata under PermissionKey; authorization middleware
// (api/auth, wired in by cmd through WithHumaMiddleware or WithHTTPMiddleware) enforces it
// and denies operations that declare none.
type Permission string

const (
	// PermRead reads what is published: the v0.1 read API. Anonymous by default.
	PermRead Permission = "read"
	// PermPublish records a new server version in a namespace.
	PermPublish Permission = "publish"
	// PermReview reads pending work and records review decisions.
	PermReview Permission = "review"
	// PermAdmin changes statuses and configuration.
	PermAdmin Permission = "admin"
	// PermNone marks operations that anyone may call whatever the configuration (health,
	// readiness, the OpenAPI document).
	PermNone Permission = "none"
)

// PermissionKey is the huma.Operation.Metadata key holding an operation's Permission.
const PermissionKey = "dev.vetted/permission"

// OperationPermission returns the permission op declares, and false when it declares none
// (which authorization must treat as a denial).
func OperationPermission(op *huma.Operation) (Permission, bool) {
	if op == nil || op.Metadata == nil {
		return "", false
	}
	p, ok := op.Metadata[PermissionKey].(Permission)
	return p, ok && p != ""
}

// withPermission returns op with p recorded in its Metadata.
func withPermission(op huma.Operation, p Permission) huma.Operation {
	md := make(map[string]any, len(op.Metadata)+1)
	for k, v := range op.Metadata {
		md[k] = v
	}
	md[PermissionKey] = p
	op.Metadata = md
	if p != PermNone {
		// The OpenAPI document declares the bearer scheme per operation (api/auth).
		op.Security = auth.SecurityRequirement(auth.Permission(p))
		ext := make(map[string]any, len(op.Extensions)+1)
		for k, v := range op.Extensions {
			ext[k] = v
		}
		ext["x-vetted-permission"] = string(p)
		op.Extensions = ext
	}
	return op
}
