package api

import (
	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
)

// Wire types of the read API. They describe the bytes the handlers serve (which are
// assembled from stored documents, see render.go) for the OpenAPI document, and let Go
// clients decode responses. They extend the official registry's apiv0 types with Vetted's
// _meta key.

// ServerResponse is one server version as served: the official ServerResponse with
// Vetted's verification results under _meta["dev.vetted/verification"].
type ServerResponse struct {
	Server apiv0.ServerJSON `json:"server" doc:"Server configuration and metadata (server.json as published, OCI packages pinned by digest)"`
	Meta   ResponseMeta     `json:"_meta" doc:"Registry-managed metadata"`
}

// ResponseMeta is the registry-managed _meta of a served version.
type ResponseMeta struct {
	Official     *apiv0.RegistryExtensions `json:"io.modelcontextprotocol.registry/official,omitempty" doc:"Official MCP registry metadata"`
	Verification map[string]any            `json:"dev.vetted/verification,omitempty" doc:"Vetted's verification results for this version (signatures, provenance, SBOM scan, tool manifest). Reserved; present once recorded."`
}

// ServerList is a page of server versions.
type ServerList struct {
	Servers  []ServerResponse `json:"servers" doc:"List of server entries"`
	Metadata apiv0.Metadata   `json:"metadata" doc:"Pagination metadata"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status" enum:"ok" doc:"ok when the check passed"`
}
