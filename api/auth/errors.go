package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Reason is why authentication failed; a stable, short phrase callers may match on.
type Reason string

// The reasons a token (or a request's credentials) is refused.
const (
	ReasonMalformed       Reason = "malformed token"
	ReasonAlgorithm       Reason = "signature algorithm not allowed"
	ReasonIssuer          Reason = "issuer not allowed"
	ReasonAudience        Reason = "wrong audience"
	ReasonExpired         Reason = "token expired"
	ReasonNotYetValid     Reason = "token not yet valid"
	ReasonIssuedInFuture  Reason = "token issued in the future"
	ReasonNoExpiry        Reason = "token has no expiry"
	ReasonLifetime        Reason = "token lifetime too long"
	ReasonNoSubject       Reason = "token has no subject"
	ReasonUnknownKey      Reason = "unknown signing key"
	ReasonSignature       Reason = "invalid signature"
	ReasonKeysUnavailable Reason = "issuer keys unavailable"
	ReasonScheme          Reason = "unsupported authorization scheme"
	ReasonTokenInQuery    Reason = "token in query string"
)

// ErrUnauthenticated is matched (errors.Is) by every *AuthnError.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrForbidden is matched (errors.Is) by every *DeniedError.
var ErrForbidden = errors.New("forbidden")

// AuthnError is a refused credential: the request is answered 401.
type AuthnError struct {
	Reason Reason
	// Detail adds context safe to show the caller (never the token).
	Detail string
	// Err is the underlying library error, if any.
	Err error

	challenge string
}

func (e *AuthnError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("authentication failed: %s: %s", e.Reason, e.Detail)
	}
	return "authentication failed: " + string(e.Reason)
}

func (e *AuthnError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnauthenticated) true.
func (e *AuthnError) Is(target error) bool { return target == ErrUnauthenticated }

func authnErr(r Reason, detail string, err error) *AuthnError {
	return &AuthnError{Reason: r, Detail: detail, Err: err}
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *DeniedError) Is(target error) bool { return target == ErrForbidden }

// RateLimitedError is a request over its rate limit: 429 with Retry-After.
type RateLimitedError struct {
	// Scope is "identity" or "address".
	Scope      string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limit per %s exceeded; retry after %s", e.Scope, e.RetryAfter)
}

// BodyTooLargeError is a request body over its route's limit: 413.
type BodyTooLargeError struct{ Limit int64 }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("request body exceeds the limit of %d bytes for this route", e.Limit)
}

// Problem is an RFC 9457 problem document, with Vetted's extension members.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Reason is the stable reason phrase (authentication failures).
	Reason string `json:"reason,omitempty"`
	// Permission is the missing permission (authorization denials).
	Permission string `json:"permission,omitempty"`
	// Resource is what the permission was asked on.
	Resource string `json:"resource,omitempty"`
}

// ContentType makes huma serve the problem as application/problem+json.
func (p Problem) ContentType(string) string { return "application/problem+json" }

// GetStatus and friends let huma (or WriteError) turn the errors into responses.

// GetStatus implements huma.StatusError.
func (e *AuthnError) GetStatus() int { return http.StatusUnauthorized }

// GetHeaders implements huma.HeadersError: the Bearer challenge.
func (e *AuthnError) GetHeaders() http.Header {
	h := http.Header{}
	h.Set("WWW-Authenticate", bearerChallenge(e.challenge, "invalid_token", string(e.Reason)))
	return h
}

// MarshalJSON writes the problem document.
func (e *AuthnError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Problem()) }

// ContentType implements huma.ContentTypeFilter.
func (e *AuthnError) ContentType(string) string { return "application/problem+json" }

// Problem returns the RFC 9457 document for e.
func (e *AuthnError) Problem() Problem {
	return Problem{Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: e.Error(), Reason: string(e.Reason)}
}

// GetStatus implements huma.StatusError: 401 for anonymous callers, else 403.
func (e *DeniedError) GetStatus() int {
	if e.Anonymous {
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

// GetHeaders implements huma.HeadersError.
func (e *DeniedError) GetHeaders() http.Header {
	h := http.Header{}
	if e.Anonymous {
		h.Set("WWW-Authenticate", bearerChallenge(e.challenge, "", ""))
	} else {
		h.Set("WWW-Authenticate", bearerChallenge(e.challenge, "insufficient_scope", "missing permission "+string(e.Permission)))
	}
	return h
}

// MarshalJSON writes the problem document.
func (e *DeniedError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Problem()) }

// ContentType implements huma.ContentTypeFilter.
func (e *DeniedError) ContentType(string) string { return "application/problem+json" }

// Problem returns the RFC 9457 document for e.
func (e *DeniedError) Problem() Problem {
	s := e.GetStatus()
	return Problem{Title: http.StatusText(s), Status: s, Detail: e.Error(), Permission: string(e.Permission), Resource: e.Resource, Reason: e.Reason}
}

// GetStatus implements huma.StatusError.
func (e *RateLimitedError) GetStatus() int { return http.StatusTooManyRequests }

// GetHeaders implements huma.HeadersError: Retry-After in whole seconds.
func (e *RateLimitedError) GetHeaders() http.Header {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.RetryAfter)))
	return h
}

// MarshalJSON writes the problem document.
func (e *RateLimitedError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Problem()) }

// ContentType implements huma.ContentTypeFilter.
func (e *RateLimitedError) ContentType(string) string { return "application/problem+json" }

// Problem returns the RFC 9457 document for e.
func (e *RateLimitedError) Problem() Problem {
	return Problem{Title: "Too Many Requests", Status: http.StatusTooManyRequests, Detail: e.Error(), Reason: "rate limit per " + e.Scope}
}

// GetStatus implements huma.StatusError.
func (e *BodyTooLargeError) GetStatus() int { return http.StatusRequestEntityTooLarge }

// MarshalJSON writes the problem document.
func (e *BodyTooLargeError) MarshalJSON() ([]byte, error) { return json.Marshal(e.Problem()) }

// ContentType implements huma.ContentTypeFilter.
func (e *BodyTooLargeError) ContentType(string) string { return "application/problem+json" }

// Problem returns the RFC 9457 document for e.
func (e *BodyTooLargeError) Problem() Problem {
	return Problem{Title: "Content Too Large", Status: http.StatusRequestEntityTooLarge, Detail: e.Error(), Reason: "request body too large"}
}

func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// bearerChallenge builds an RFC 6750 challenge with the RFC 9728 resource_metadata
// parameter.
func bearerChallenge(metadataURL, errCode, desc string) string {
	c := "Bearer"
	sep := " "
	add := func(k, v string) {
		c += sep + k + "=" + strconv.Quote(v)
		sep = ", "
	}
	if metadataURL != "" {
		add("resource_metadata", metadataURL)
	}
	if errCode != "" {
		add("error", errCode)
	}
	if desc != "" {
		add("error_description", desc)
	}
	return c
}

// StatusOf maps this package's errors to an HTTP status; 0 when err is none of them.
func StatusOf(err error) int {
	var (
		an *AuthnError
		de *DeniedError
		rl *RateLimitedError
		bt *BodyTooLargeError
		mb *http.MaxBytesError
	)
	switch {
	case errors.As(err, &an):
		return an.GetStatus()
	case errors.As(err, &de):
		return de.GetStatus()
	case errors.As(err, &rl):
		return rl.GetStatus()
	case errors.As(err, &bt), errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	}
	return 0
}

// WriteError writes err as a problem response when it is one of this package's errors (or
// an http.MaxBytesError) and reports whether it did.
func WriteError(w http.ResponseWriter, err error) bool {
	type problemErr interface {
		Problem() Problem
	}
	var (
		an *AuthnError
		de *DeniedError
		rl *RateLimitedError
		bt *BodyTooLargeError
		mb *http.MaxBytesError
		pe problemErr
		hs http.Header
	)
	switch {
	case errors.As(err, &an):
		pe, hs = an, an.GetHeaders()
	case errors.As(err, &de):
		pe, hs = de, de.GetHeaders()
	case errors.As(err, &rl):
		pe, hs = rl, rl.GetHeaders()
	case errors.As(err, &bt):
		pe = bt
	case errors.As(err, &mb):
		pe = &BodyTooLargeError{Limit: mb.Limit}
	default:
		return false
	}
	for k, vs := range hs {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeProblem(w, pe.Problem())
	return true
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
