package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// readyTimeout bounds the store ping of /readyz.
const readyTimeout = 2 * time.Second

type healthOutput struct {
	Body Health
}

// registerHealth registers /healthz (the process is up) and /readyz (the store answers).
func registerHealth(api huma.API, s *Server) {
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "get-healthz",
		Method:      http.MethodGet,
		Path:        "/healthz",
		Summary:     "Liveness",
		Description: "200 while the process is up.",
		Tags:        []string{"health"},
	}, PermNone), func(context.Context, *struct{}) (*healthOutput, error) {
		return &healthOutput{Body: Health{Status: "ok"}}, nil
	})

	huma.Register(api, withPermission(huma.Operation{
		OperationID: "get-readyz",
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Readiness",
		Description: "200 when the store answers, 503 otherwise.",
		Tags:        []string{"health"},
		Errors:      []int{http.StatusServiceUnavailable},
	}, PermNone), func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			return nil, problem(s.log, fmt.Errorf("ping: %w: %w", errUnavailable, err))
		}
		return &healthOutput{Body: Health{Status: "ok"}}, nil
	})
}
