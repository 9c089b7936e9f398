package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// maxEchoed bounds what of a malformed query a problem document repeats.
const maxEchoed = 64

// checkQuery refuses a query string that Go's parser would silently drop a part of: a
// malformed %-escape in a name or a value, or a ";" separator. Served as if absent, such a
// parameter (a cursor, a limit) would give an answer to a question the client did not ask.
// The error names the parameter ("query.cursor"), or "query" when the name itself is
// malformed.
func checkQuery(raw string) error {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		key, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			return badParam("query", excerpt(key), "malformed URL encoding in a parameter name")
		}
		loc := "query." + excerpt(name)
		if strings.Contains(pair, ";") {
			return badParam(loc, excerpt(pair), "\";\" is not a separator; encode it as %%3B")
		}
		if _, err := url.QueryUnescape(value); err != nil {
			return badParam(loc, excerpt(value), "malformed URL encoding")
		}
	}
	return nil
}

func excerpt(s string) string {
	if len(s) <= maxEchoed {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToValidUTF8(s[:maxEchoed], "\uFFFD") + "…"
}

// refuseBadQuery answers 400 naming the parameter when the query string is malformed, and
// reports whether it did.
func (s *Server) refuseBadQuery(w http.ResponseWriter, r *http.Request) bool {
	err := checkQuery(r.URL.RawQuery)
	if err == nil {
		return false
	}
	var pe *paramError
	if !errors.As(err, &pe) {
		return false
	}
	ctx := humago.NewContext(&huma.Operation{}, r, w)
	_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, "invalid "+pe.location+": "+pe.message,
		&huma.ErrorDetail{Location: pe.location, Message: pe.message, Value: pe.value})
	return true
}
