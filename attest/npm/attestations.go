package npm

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// Predicate types found in npm's attestations documents.
const (
	// PredicatePublish is npm's publish attestation, signed by the registry's own key.
	PredicatePublish = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
)

// ErrAttestations is wrapped by every error about an attestations document.
var ErrAttestations = errors.New("bad npm attestations document")

// MaxAttestations bounds the entries of one attestations document.
const MaxAttestations = 16

// Attestation is one entry of a registry's attestations document: the predicate type the
// registry claims (a hint; only the signed statement counts) and the Sigstore bundle.
type Attestation struct {
	PredicateType string          `json:"predicateType"`
	Bundle        json.RawMessage `json:"bundle"`
}

// PublishPredicate is the predicate of npm's publish attestation.
type PublishPredicate struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Registry string `json:"registry"`
}

// ParseAttestations parses an attestations document ({"attestations":[{predicateType,
// bundle}]}) strictly: one JSON value without duplicate keys, a list of 1 to
// MaxAttestations entries, each with a predicate type and a bundle object.
func ParseAttestations(data []byte) ([]Attestation, error) {
	if err := intoto.CheckStrictJSON(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestations, err)
	}
	var doc struct {
		Attestations []Attestation `json:"attestations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAttestations, err)
	}
	switch n := len(doc.Attestations); {
	case n == 0:
		return nil, fmt.Errorf("%w: no attestations", ErrAttestations)
	case n > MaxAttestations:
		return nil, fmt.Errorf("%w: %d attestations, limit %d", ErrAttestations, n, MaxAttestations)
	}
	for i, a := range doc.Attestations {
		if a.PredicateType == "" {
			return nil, fmt.Errorf("%w: attestations[%d] has no predicateType", ErrAttestations, i)
		}
		if len(a.Bundle) == 0 || a.Bundle[0] != '{' {
			return nil, fmt.Errorf("%w: attestations[%d].bundle is not an object", ErrAttestations, i)
		}
	}
	return doc.Attestations, nil
}

// ParsePublishPredicate parses the predicate of a verified publish attestation.
func ParsePublishPredicate(predicate []byte) (*PublishPredicate, error) {
	var p PublishPredicate
	if err := json.Unmarshal(predicate, &p); err != nil {
		return nil, fmt.Errorf("publish predicate: %w", err)
	}
	if p.Name == "" || p.Version == "" {
		return nil, errors.New("publish predicate: name and version are required")
	}
	return &p, nil
}
