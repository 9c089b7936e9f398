package auth

import (
	"encoding/json"
	"net/http"
)

// ResourceMetadata is the RFC 9728 protected resource metadata document.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
	// Audience is the "aud" tokens must carry (Vetted's extension; equal to Resource unless
	// configured otherwise).
	Audience string `json:"vetted_audience,omitempty"`
}

// Metadata returns the document served at MetadataPath.
func (s *Service) Metadata() ResourceMetadata {
	return ResourceMetadata{
		Resource:               s.resource,
		AuthorizationServers:   s.verifier.Issuers(),
		BearerMethodsSupported: []string{"header"},
		ResourceName:           s.resourceName,
		Audience:               s.verifier.Audience(),
	}
}

// Register mounts the well-known documents on mux: RFC 9728 metadata, and the embedded
// issuer's JWKS and OpenID configuration when there is one. They are public.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("GET "+MetadataPath, s.MetadataHandler())
	if s.self != nil {
		mux.Handle("GET "+JWKSPath, s.JWKSHandler())
		if s.self.Issuer() == s.resource {
			mux.Handle("GET "+DiscoveryPath, s.DiscoveryHandler())
		}
	}
}

// MetadataHandler serves the RFC 9728 document.
func (s *Service) MetadataHandler() http.Handler {
	return jsonHandler("application/json", func() any { return s.Metadata() })
}

// JWKSHandler serves the embedded issuer's public keys (404 when there is none).
func (s *Service) JWKSHandler() http.Handler {
	if s.self == nil {
		return http.NotFoundHandler()
	}
	return jsonHandler("application/jwk-set+json", func() any { return s.self.PublicJWKS() })
}

// DiscoveryHandler serves a minimal OpenID configuration for the embedded issuer.
func (s *Service) DiscoveryHandler() http.Handler {
	if s.self == nil {
		return http.NotFoundHandler()
	}
	return jsonHandler("application/json", func() any {
		return map[string]any{
			"issuer":                                s.self.Issuer(),
			"jwks_uri":                              s.resource + JWKSPath,
			"id_token_signing_alg_values_supported": []string{"EdDSA"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		}
	})
}

func jsonHandler(contentType string, doc func() any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.Marshal(doc())
		if err != nil {
			http.Error(w, "cannot encode", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(b)
	})
}
