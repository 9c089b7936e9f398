package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidRecord marks an OSV record that does not decode or lacks what the schema requires.
var ErrInvalidRecord = errors.New("invalid OSV record")

// MaxRecordBytes bounds one record (the largest real records are a few hundred KiB).
const MaxRecordBytes = 8 << 20

// Record is the part of an OSV record (https://ossf.github.io/osv-schema/) that matching and
// reports use. Fields Vetted does not use are not kept.
type Record struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published,omitempty"`
	Withdrawn        string          `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is one entry of severity[] (record or affected level).
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one entry of affected[].
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names the affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is one entry of ranges[].
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one event of a range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Range types.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// DecodeRecord decodes and checks one OSV record.
func DecodeRecord(data []byte) (*Record, error) {
	if len(data) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidRecord, len(data), MaxRecordBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Record) validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: no id", ErrInvalidRecord)
	}
	if r.Modified == "" {
		return fmt.Errorf("%w: %s: no modified time", ErrInvalidRecord, r.ID)
	}
	for i, a := range r.Affected {
		for j, rg := range a.Ranges {
			switch rg.Type {
			case RangeEcosystem, RangeSemver, RangeGit:
			default:
				return fmt.Errorf("%w: %s: affected[%d].ranges[%d]: unknown range type %q", ErrInvalidRecord, r.ID, i, j, rg.Type)
			}
			for k, e := range rg.Events {
				n := 0
				for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if s != "" {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("%w: %s: affected[%d].ranges[%d].events[%d]: want exactly one of introduced, fixed, last_affected, limit", ErrInvalidRecord, r.ID, i, j, k)
				}
			}
		}
	}
	return nil
}

// IsWithdrawn reports whether the record has been withdrawn.
func (r *Record) IsWithdrawn() bool { return r.Withdrawn != "" }
