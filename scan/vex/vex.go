package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	govex "github.com/openvex/go-vex/pkg/vex"
)

// ErrInvalid marks an OpenVEX document or statement that does not decode or validate.
var ErrInvalid = errors.New("invalid OpenVEX document")

// MaxDocumentBytes bounds one OpenVEX document.
const MaxDocumentBytes = 4 << 20

// Statuses, as OpenVEX spells them.
const (
	StatusNotAffected        = string(govex.StatusNotAffected)
	StatusAffected           = string(govex.StatusAffected)
	StatusFixed              = string(govex.StatusFixed)
	StatusUnderInvestigation = string(govex.StatusUnderInvestigation)
)

// Statement is one OpenVEX statement with where it came from and its optional expiry.
type Statement struct {
	Document        string     `json:"document,omitempty"` // the document's @id
	Author          string     `json:"author,omitempty"`
	Vulnerability   string     `json:"vulnerability"`
	VulnAliases     []string   `json:"vulnerabilityAliases,omitempty"`
	Products        []string   `json:"products"`
	Subcomponents   []string   `json:"subcomponents,omitempty"`
	Status          string     `json:"status"`
	Justification   string     `json:"justification,omitempty"`
	ImpactStatement string     `json:"impactStatement,omitempty"`
	ActionStatement string     `json:"actionStatement,omitempty"`
	StatusNotes     string     `json:"statusNotes,omitempty"`
	Timestamp       time.Time  `json:"timestamp,omitzero"`
	Expires         *time.Time `json:"expires,omitempty"`
}

// Suppresses reports whether the statement's status takes the finding out of the policy.
func (s *Statement) Suppresses() bool {
	return s.Status == StatusNotAffected || s.Status == StatusFixed
}

// Parse decodes and validates one OpenVEX JSON document into its statements.
func Parse(data []byte) ([]Statement, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("vex: %w: %d bytes, limit %d", ErrInvalid, len(data), MaxDocumentBytes)
	}
	data = bytes.TrimSpace(data)
	var raw struct {
		Context    string            `json:"@context"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("vex: %w: %v", ErrInvalid, err)
	}
	if !strings.HasPrefix(raw.Context, "https://openvex.dev/ns") {
		return nil, fmt.Errorf("vex: %w: @context %q is not OpenVEX", ErrInvalid, raw.Context)
	}
	var doc govex.VEX
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("vex: %w: %v", ErrInvalid, err)
	}
	if len(doc.Statements) == 0 {
		return nil, fmt.Errorf("vex: %w: no statements", ErrInvalid)
	}
	out := make([]Statement, 0, len(doc.Statements))
	for i := range doc.Statements {
		gs := &doc.Statements[i]
		if err := gs.Validate(); err != nil {
			return nil, fmt.Errorf("vex: %w: statement %d: %v", ErrInvalid, i, err)
		}
		var ext struct {
			Expires *time.Time `json:"expires"`
		}
		if i < len(raw.Statements) {
			if err := json.Unmarshal(raw.Statements[i], &ext); err != nil {
				return nil, fmt.Errorf("vex: %w: statement %d: expires: %v", ErrInvalid, i, err)
			}
		}
		s := Statement{
			Document:        doc.ID,
			Author:          doc.Author,
			Vulnerability:   string(gs.Vulnerability.Name),
			Status:          string(gs.Status),
			Justification:   string(gs.Justification),
			ImpactStatement: gs.ImpactStatement,
			ActionStatement: gs.ActionStatement,
			StatusNotes:     gs.StatusNotes,
			Expires:         ext.Expires,
		}
		if s.Vulnerability == "" {
			s.Vulnerability = gs.Vulnerability.ID
		}
		if s.Vulnerability == "" {
			return nil, fmt.Errorf("vex: %w: statement %d names no vulnerability", ErrInvalid, i)
		}
		for _, a := range gs.Vulnerability.Aliases {
			s.VulnAliases = append(s.VulnAliases, string(a))
		}
		switch {
		case gs.Timestamp != nil:
			s.Timestamp = *gs.Timestamp
		case gs.LastUpdated != nil:
			s.Timestamp = *gs.LastUpdated
		case doc.LastUpdated != nil:
			s.Timestamp = *doc.LastUpdated
		case doc.Timestamp != nil:
			s.Timestamp = *doc.Timestamp
		}
		for _, p := range gs.Products {
			ids := componentIDs(p.Component)
			if len(ids) == 0 {
				return nil, fmt.Errorf("vex: %w: statement %d: a product has no @id, identifiers or hashes", ErrInvalid, i)
			}
			s.Products = append(s.Products, ids...)
			for _, sc := range p.Subcomponents {
				s.Subcomponents = append(s.Subcomponents, componentIDs(sc.Component)...)
			}
		}
		if len(s.Products) == 0 {
			return nil, fmt.Errorf("vex: %w: statement %d names no product", ErrInvalid, i)
		}
		out = append(out, s)
	}
	return out, nil
}

func componentIDs(c govex.Component) []string {
	var ids []string
	if c.ID != "" {
		ids = append(ids, c.ID)
	}
	for _, v := range c.Identifiers {
		ids = append(ids, v)
	}
	for algo, h := range c.Hashes {
		if algo == govex.SHA256 {
			ids = append(ids, "sha256:"+string(h))
		}
	}
	sort.Strings(ids)
	return ids
}

// Product is what a scan is about: the image digest and/or the server name and version.
type Product struct {
	Digest  string `json:"digest,omitempty"`  // "sha256:…"
	Name    string `json:"name,omitempty"`    // server name, e.g. io.github.acme/weather
	Version string `json:"version,omitempty"` // server version
}

func (p Product) matches(id string) bool {
	id = strings.TrimSpace(id)
	if id == "" {
		return false
	}
	if dec, err := url.PathUnescape(id); err == nil {
		id = dec
	}
	if p.Digest != "" && (id == p.Digest || strings.HasSuffix(id, "@"+p.Digest)) {
		return true
	}
	if p.Name != "" {
		if id == p.Name {
			return true // a statement about the server name covers every version
		}
		if p.Version != "" && id == p.Name+"@"+p.Version {
			return true
		}
	}
	return false
}

// Set is an immutable collection of statements.
type Set struct{ stmts []Statement }

// NewSet builds a set from statements (from Parse, or recorded by reviewers).
func NewSet(stmts ...Statement) *Set { return &Set{stmts: append([]Statement(nil), stmts...)} }

// Len is the number of statements.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.stmts)
}

// Lookup returns the effective statement for a finding: vulnIDs are every id of the finding's
// alias group, pkg is the package's purl (and name@version) for subcomponent matching. Expired
// statements are ignored; the latest applicable statement wins. It returns nil if none applies.
func (s *Set) Lookup(prod Product, vulnIDs []string, pkgIDs []string, now time.Time) *Statement {
	if s == nil {
		return nil
	}
	var best *Statement
	for i := range s.stmts {
		st := &s.stmts[i]
		if st.Expires != nil && !now.Before(*st.Expires) {
			continue
		}
		if !anyEqual(append([]string{st.Vulnerability}, st.VulnAliases...), vulnIDs) {
			continue
		}
		if !anyMatch(st.Products, prod.matches) {
			continue
		}
		if len(st.Subcomponents) > 0 && !anyMatch(st.Subcomponents, func(id string) bool {
			for _, p := range pkgIDs {
				if id == p || strings.HasPrefix(p, "pkg:") && govex.PurlMatches(id, p) {
					return true
				}
			}
			return false
		}) {
			continue
		}
		if best == nil || !st.Timestamp.Before(best.Timestamp) {
			best = st
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

func anyEqual(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x != "" && x == y {
				return true
			}
		}
	}
	return false
}

func anyMatch(ids []string, f func(string) bool) bool {
	for _, id := range ids {
		if f(id) {
			return true
		}
	}
	return false
}
