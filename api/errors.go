package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/registry"
)

// paramError is bad client input in one named place ("query.cursor", "path.serverName").
// It wraps registry.ErrInvalid.
type paramError struct {
	location string
	message  string
	value    any
}

func (e *paramError) Error() string { return e.location + ": " + e.message }
func (e *paramError) Unwrap() error { return registry.ErrInvalid }

func badParam(location string, value any, format string, a ...any) error {
	return &paramError{location: location, message: fmt.Sprintf(format, a...), value: value}
}

// notFoundError says what was not found, in words meant for the client. It wraps
// registry.ErrNotFound.
type notFoundError struct {
	what string
	err  error
}

func (e *notFoundError) Error() string { return e.what + " not found" }
func (e *notFoundError) Unwrap() error { return registry.ErrNotFound }

// notFound wraps a store error: ErrNotFound becomes a notFoundError describing what, any
// other error passes through.
func notFound(err error, format string, a ...any) error {
	if errors.Is(err, registry.ErrNotFound) {
		return &notFoundError{what: fmt.Sprintf(format, a...), err: err}
	}
	return err
}

// errUnavailable marks failures of the store itself (unreachable, timed out).
var errUnavailable = errors.New("store unavailable")

// statusClientClosedRequest is nginx's 499: the client went away before the answer.
const statusClientClosedRequest = 499

// problem maps any error a handler returns to an RFC 9457 problem. It is the only place
// where errors become HTTP statuses. Client mistakes get a 4xx whose detail names what is
// wrong; everything else is a 5xx with a generic detail, and the error is logged, never
// sent.
func problem(log *slog.Logger, err error) huma.StatusError {
	var (
		se  huma.StatusError
		pe  *paramError
		nfe *notFoundError
	)
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &pe):
		return huma.NewError(http.StatusBadRequest, "invalid "+pe.location+": "+pe.message,
			&huma.ErrorDetail{Location: pe.location, Message: pe.message, Value: pe.value})
	case errors.As(err, &nfe):
		return huma.NewError(http.StatusNotFound, nfe.Error())
	case errors.Is(err, registry.ErrNotFound):
		return huma.NewError(http.StatusNotFound, "not found")
	case errors.Is(err, registry.ErrConflict):
		// The registry's messages for its sentinels are written for clients: they name the
		// version and what differs.
		return huma.NewError(http.StatusConflict, err.Error())
	case errors.Is(err, registry.ErrInvalid):
		return huma.NewError(http.StatusBadRequest, err.Error())
	case errors.Is(err, registry.ErrAuditChain):
		chainBroken.Inc()
		log.Error("write refused: the audit chain is broken; the registry is read-only", slog.String(logKeyError, err.Error()))
		return &huma.ErrorModel{Type: ProblemReadOnly, Title: "Registry is read-only", Status: http.StatusServiceUnavailable,
			Detail: "the registry's audit chain failed verification, so it records no new decisions until an operator repairs it (vetted audit verify names the break); reads keep working"}
	case errors.Is(err, registry.ErrIntegrity):
		// Logged with an alert where it was found (integrityFailure).
		return huma.NewError(http.StatusInternalServerError, "a stored version failed its integrity check and is not served")
	case errors.Is(err, context.Canceled):
		return huma.NewError(statusClientClosedRequest, "client closed request")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errUnavailable):
		log.Error("store unavailable", slog.String(logKeyError, err.Error()))
		return huma.NewError(http.StatusServiceUnavailable, "the registry's store is unavailable; retry later")
	default:
		log.Error("internal error", slog.String(logKeyError, err.Error()))
		return huma.NewError(http.StatusInternalServerError, "internal error")
	}
}

// ProblemReadOnly is the problem type of writes refused while the audit chain is broken.
const ProblemReadOnly = "https://vetted.dev/problems/read-only"

// logKeyError is the log attribute key of an error.
const logKeyError = "error"
