package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// WithIssuerKeysFlush enables the admin operation that flushes the key caches of the
// trusted token issuers; flush forgets them and returns the issuers flushed
// (api/auth.Verifier.FlushKeys).
func WithIssuerKeysFlush(flush func() []string) Option {
	return func(o *options) error {
		if flush == nil {
			return errors.New("api: nil issuer key flush")
		}
		o.flushKeys = flush
		return nil
	}
}

// IssuerKeysFlushed is the answer of the flush operation.
type IssuerKeysFlushed struct {
	// Flushed lists the issuers whose cached keys were forgotten.
	Flushed []string `json:"flushed" doc:"Issuers whose cached signing keys were forgotten; the next token of each fetches its key set"`
}

func registerKeysAdmin(ext huma.API, s *Server) {
	huma.Register(ext, withPermission(huma.Operation{
		OperationID: "flush-issuer-keys", Method: http.MethodPost, Path: "/admin/issuer-keys/flush",
		Summary: "Flush the token issuers' key caches",
		Description: "Forgets the signing keys fetched from every trusted token issuer (not the embedded issuer's own key), so " +
			"that the next token of each issuer fetches its current key set at once: after an issuer dropped a compromised " +
			"key, for example. `kill -HUP` of the server process does the same.",
		Tags: []string{"admin"}, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound},
	}, PermAdmin), func(ctx context.Context, _ *struct{}) (*struct{ Body IssuerKeysFlushed }, error) {
		if s.flushKeys == nil {
			return nil, huma.Error404NotFound("this registry trusts no token issuer whose keys it fetches")
		}
		out := IssuerKeysFlushed{Flushed: s.flushKeys()}
		if out.Flushed == nil {
			out.Flushed = []string{}
		}
		return &struct{ Body IssuerKeysFlushed }{Body: out}, nil
	})
}
