package intoto

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Statement types accepted. cosign v2 still writes v0.1 statements.
const (
	StatementV1  = "https://in-toto.io/Statement/v1"
	StatementV01 = "https://in-toto.io/Statement/v0.1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
)

// Statement is an in-toto statement, keeping the predicate as the raw verified bytes.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// ParseStatement parses an in-toto statement strictly: valid JSON with no duplicate keys, a
// known statement type, at least one subject with a digest, a predicate type, and a predicate
// that, when present, is a JSON object.
func ParseStatement(data []byte) (*Statement, error) {
	if err := CheckStrictJSON(data); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	var s Statement
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("statement: %w: %w", ErrMalformed, err)
	}
	if s.Type != StatementV1 && s.Type != StatementV01 {
		return nil, fmt.Errorf("statement: %w: _type %q is not an in-toto statement", ErrMalformed, s.Type)
	}
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("statement: %w: no subject", ErrMalformed)
	}
	for i, sub := range s.Subject {
		if len(sub.Digest) == 0 {
			return nil, fmt.Errorf("statement: %w: subject[%d] has no digest", ErrMalformed, i)
		}
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("statement: %w: no predicateType", ErrMalformed)
	}
	// The predicate is optional in in-toto v1 (cosign's sign/v1 statements have none); when
	// present it must be an object.
	switch p := strings.TrimSpace(string(s.Predicate)); {
	case p == "" || p == "null":
		s.Predicate = json.RawMessage(`{}`)
	case !strings.HasPrefix(p, "{"):
		return nil, fmt.Errorf("statement: %w: predicate is not a JSON object", ErrMalformed)
	}
	return &s, nil
}

// HasSubjectDigest reports whether one of the subjects carries digest ("sha256:<hex>").
func (s *Statement) HasSubjectDigest(digest string) bool {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	for _, sub := range s.Subject {
		if v, ok := sub.Digest[alg]; ok && strings.EqualFold(v, hex) {
			return true
		}
	}
	return false
}

// SubjectDigests lists the subjects' digests as "alg:hex".
func (s *Statement) SubjectDigests() []string {
	var out []string
	for _, sub := range s.Subject {
		for alg, v := range sub.Digest {
			out = append(out, alg+":"+v)
		}
	}
	return out
}
