package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/internal/strictjson"
	"github.com/vetted-dev/vetted/registry"
)

// Bounds of a publish request. A plain server.json body is at most registry.MaxServerJSON
// bytes; an envelope carries one such server.json and up to MaxEvidence Sigstore bundles.
const (
	// MaxPublishBody bounds the whole body of POST /v0.1/publish (an envelope with its
	// evidence); the auth middleware refuses more before reading it.
	MaxPublishBody = 8 << 20
	// MaxEvidence is how many evidence bundles one envelope may carry.
	MaxEvidence = 8
	// MaxEvidenceBundle bounds one evidence bundle (an SBOM attestation carries the whole
	// SBOM, base64-encoded, in its DSSE payload).
	MaxEvidenceBundle = 2 << 20
)

// Envelope member names, matched exactly.
const (
	envServer       = "server"
	envEvidence     = "evidence"
	envServerBundle = "serverJSONBundle"
)

var envelopeKeys = []string{envServer, envEvidence, envServerBundle}

// publishEnvelope is a publish body split into its parts: the server.json as submitted
// (byte for byte, what the strict decoder judges and what is stored), the evidence
// bundles, and the optional bundle over the server.json.
type publishEnvelope struct {
	// Envelope says whether the body was an envelope (false: a plain server.json, which
	// is then ServerJSON itself).
	Envelope         bool
	ServerJSON       []byte
	Evidence         [][]byte
	ServerJSONBundle []byte
}

// envelopeError is a refused envelope: an HTTP status and one problem naming the member.
type envelopeError struct {
	status   int
	location string
	reason   string
}

func (e *envelopeError) Error() string { return e.location + ": " + e.reason }

func (e *envelopeError) problem() error {
	return huma.NewError(e.status, "invalid publish envelope: "+e.Error(), &huma.ErrorDetail{Location: e.location, Message: e.reason})
}

// splitPublishBody tells a plain server.json from an envelope
// `{"server": {…}, "evidence": [{…}, …], "serverJSONBundle": {…}}` and splits the latter.
//
// A body is an envelope exactly when it is a JSON object one of whose top-level keys equals
// an envelope member name under Unicode case folding (`server`, `evidence`,
// `serverJSONBundle`); none of those is a key of server.json, so a plain server.json that
// uses one is refused by the strict decoder either way. An envelope's keys must then be
// exactly the member names, each at most once, with no case variants: a key that another
// decoder would read as a member is never ignored here. The server member is handed on as
// the exact bytes between its colon and the following delimiter (whitespace included), so
// that `vetted publish` can embed a file byte for byte and a bundle over the file's exact
// bytes still binds. Its content is not judged here: registry.ParseServerJSON judges it
// exactly as a plain body.
func splitPublishBody(body []byte) (publishEnvelope, *envelopeError) {
	if !looksLikeEnvelope(body) {
		return publishEnvelope{ServerJSON: body}, nil
	}
	env := publishEnvelope{Envelope: true}
	bad := func(status int, loc, format string, a ...any) (publishEnvelope, *envelopeError) {
		return publishEnvelope{}, &envelopeError{status: status, location: loc, reason: fmt.Sprintf(format, a...)}
	}
	if !utf8.Valid(body) {
		return bad(http.StatusBadRequest, "body", "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad(http.StatusBadRequest, "body", "not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(http.StatusBadRequest, "body", "invalid JSON: %s", strictjson.Excerpt(err.Error(), 200))
		}
		k, _ := tok.(string)
		loc := "body" + memberPath(k)
		if seen[k] {
			return bad(http.StatusUnprocessableEntity, loc, "duplicate key")
		}
		seen[k] = true
		start := int(dec.InputOffset()) // just after the key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad(http.StatusBadRequest, loc, "invalid JSON: %s", strictjson.Excerpt(err.Error(), 200))
		}
		end := int(dec.InputOffset()) // just after the value
		switch k {
		case envServer:
			span := memberSpan(body, start, end)
			if len(span) > registry.MaxServerJSON {
				return bad(http.StatusRequestEntityTooLarge, loc, "request body too large: a server.json is at most %d bytes", registry.MaxServerJSON)
			}
			if raw[0] != '{' {
				return bad(http.StatusUnprocessableEntity, loc, "expected the server.json object, got %s", jsonKind(raw))
			}
			env.ServerJSON = span
		case envEvidence:
			if raw[0] != '[' {
				return bad(http.StatusUnprocessableEntity, loc, "expected an array of Sigstore bundles, got %s", jsonKind(raw))
			}
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return bad(http.StatusBadRequest, loc, "invalid JSON: %s", strictjson.Excerpt(err.Error(), 200))
			}
			if len(items) > MaxEvidence {
				return bad(http.StatusUnprocessableEntity, loc, "%d bundles; at most %d per publish", len(items), MaxEvidence)
			}
			for i, it := range items {
				iloc := fmt.Sprintf("%s[%d]", loc, i)
				if len(it) > MaxEvidenceBundle {
					return bad(http.StatusRequestEntityTooLarge, iloc, "bundle larger than %d bytes", MaxEvidenceBundle)
				}
				if it[0] != '{' {
					return bad(http.StatusUnprocessableEntity, iloc, "expected a Sigstore bundle (a JSON object), got %s", jsonKind(it))
				}
				env.Evidence = append(env.Evidence, []byte(it))
			}
		case envServerBundle:
			if len(raw) > maxBundleHeader {
				return bad(http.StatusRequestEntityTooLarge, loc, "bundle larger than %d bytes", maxBundleHeader)
			}
			if raw[0] != '{' {
				return bad(http.StatusUnprocessableEntity, loc, "expected a Sigstore bundle (a JSON object), got %s", jsonKind(raw))
			}
			env.ServerJSONBundle = raw
		default:
			for _, m := range envelopeKeys {
				if strictjson.EqualFold(k, m) {
					return bad(http.StatusUnprocessableEntity, loc, "differs from the envelope member %s only by letter case; keys are matched exactly", strictjson.QuoteKey(m))
				}
			}
			return bad(http.StatusUnprocessableEntity, loc, "unknown key in a publish envelope (members: server, evidence, serverJSONBundle)")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return bad(http.StatusBadRequest, "body", "invalid JSON: %s", strictjson.Excerpt(err.Error(), 200))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad(http.StatusBadRequest, "body", "trailing data after the JSON value")
	}
	if env.ServerJSON == nil {
		return bad(http.StatusUnprocessableEntity, "body."+envServer, "required: the server.json to publish")
	}
	return env, nil
}

// looksLikeEnvelope reports whether body is a JSON object with a top-level key equal to an
// envelope member name under case folding. It reads keys only as far as the document is
// well-formed; a body it cannot read is left to the server.json decoder.
func looksLikeEnvelope(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		for _, m := range envelopeKeys {
			if strictjson.EqualFold(k, m) {
				return true
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// memberSpan is the bytes of a member's value between the colon after its key (which ends
// at start) and the delimiter after the value (which ends at end): the value with the
// whitespace around it.
func memberSpan(body []byte, start, end int) []byte {
	i := start
	for i < len(body) && body[i] != ':' {
		i++
	}
	j := end
	for j < len(body) && isJSONSpace(body[j]) {
		j++
	}
	return body[i+1 : j]
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// memberPath is the error location of a top-level key, as strictjson writes paths.
func memberPath(k string) string {
	for _, c := range k {
		if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "[" + strictjson.QuoteKey(k) + "]"
		}
	}
	if k == "" || len(k) > 64 || k[0] >= '0' && k[0] <= '9' {
		return "[" + strictjson.QuoteKey(k) + "]"
	}
	return "." + k
}

func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
