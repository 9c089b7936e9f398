package match

import (
	"sort"

	"github.com/google/osv-scalibr/semantic"
)

type eventKind uint8

const (
	evIntroduced eventKind = iota
	evFixed
	evLastAffected
	evLimit
)

type compiledEvent struct {
	kind eventKind
	raw  string
	zero bool             // introduced "0": before every version
	inf  bool             // limit "*": after every version
	v    semantic.Version // nil when the version does not parse
}

type compiledRange struct {
	semver bool // SEMVER range: SemVer 2.0 order whatever the ecosystem
	events []compiledEvent
	bad    bool // an event version did not parse: evaluate fail-closed
}

type parsedVersion struct {
	raw string
	v   semantic.Version
}

// parseIn parses a version in an ecosystem, or as SemVer for SEMVER ranges.
func parseIn(s, ecosystem string, semver bool) (semantic.Version, error) {
	if semver {
		return semantic.ParseSemverVersion(s), nil
	}
	return semantic.Parse(s, ecosystem)
}

func compileRange(r rawRange, ecosystem string) compiledRange {
	cr := compiledRange{semver: r.semver}
	for _, e := range r.events {
		ce := compiledEvent{kind: e.kind, raw: e.v}
		ce.zero = e.kind == evIntroduced && e.v == "0"
		ce.inf = e.kind == evLimit && e.v == "*"
		if !ce.zero && !ce.inf {
			v, err := parseIn(ce.raw, ecosystem, cr.semver)
			if err != nil || v == nil {
				cr.bad = true
			} else {
				ce.v = v
			}
		}
		cr.events = append(cr.events, ce)
	}
	// Order events by version, introduced "0" first (OSV schema, "Evaluation").
	sort.SliceStable(cr.events, func(i, j int) bool {
		a, b := cr.events[i], cr.events[j]
		if a.zero || b.inf {
			return !b.zero
		}
		if b.zero || a.inf {
			return false
		}
		if a.v == nil || b.v == nil {
			return false
		}
		c, err := a.v.Compare(b.v)
		return err == nil && c < 0
	})
	return cr
}

// cmp compares the package version with an event; ok is false when they cannot be compared.
func cmp(pv semantic.Version, e compiledEvent) (int, bool) {
	if e.zero {
		return 1, true
	}
	if e.inf {
		return -1, true
	}
	if e.v == nil {
		return 0, false
	}
	c, err := pv.Compare(e.v)
	if err != nil {
		return 0, false
	}
	return c, true
}

// contains evaluates the range for a parsed package version. It returns the fixed versions
// that end the affected interval the version falls in.
func (r *compiledRange) contains(pv semantic.Version) (affected bool, fixed []string, ok bool) {
	if r.bad {
		return false, nil, false
	}
	var limits []compiledEvent
	var lastFixed []string
	for i, e := range r.events {
		if e.kind == evLimit {
			limits = append(limits, e)
			continue
		}
		c, good := cmp(pv, e)
		if !good {
			return false, nil, false
		}
		switch e.kind {
		case evIntroduced:
			if c >= 0 {
				affected = true
				lastFixed = nil
				// The next fixed event after this one, if any, is the fix for this interval.
				for _, f := range r.events[i+1:] {
					if f.kind == evFixed {
						lastFixed = []string{f.raw}
						break
					}
					if f.kind == evIntroduced {
						break
					}
				}
			}
		case evFixed:
			if c >= 0 {
				affected = false
			}
		case evLastAffected:
			if c > 0 {
				affected = false
			}
		}
	}
	if affected && len(limits) > 0 {
		below := false
		for _, l := range limits {
			c, good := cmp(pv, l)
			if !good {
				return false, nil, false
			}
			if c < 0 {
				below = true
			}
		}
		affected = below
	}
	if !affected {
		return false, nil, true
	}
	return true, lastFixed, true
}

// parseVersions parses a versions list in the ecosystem and sorts it in version order; the
// entries that do not parse are returned apart, to be compared as strings.
func parseVersions(versions []string, ecosystem string) (out []parsedVersion, unparsed []string) {
	if len(versions) == 0 {
		return nil, nil
	}
	out = make([]parsedVersion, 0, len(versions))
	for _, s := range versions {
		if v, err := semantic.Parse(s, ecosystem); err == nil && v != nil {
			out = append(out, parsedVersion{raw: s, v: v})
		} else {
			unparsed = append(unparsed, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		c, err := out[i].v.Compare(out[j].v)
		return err == nil && c < 0
	})
	return out, unparsed
}

// inVersions reports whether pv equals a version of the explicit list, comparing as versions of
// the ecosystem (PyPI "1.0" equals "1.0.0"), with exact string equality as the fast path.
func (e *entry) inVersions(raw string, pv semantic.Version, ecosystem string) bool {
	if len(e.versions) == 0 {
		return false
	}
	for _, s := range e.unparsed {
		if s == raw {
			return true
		}
	}
	// Binary search in version order: equal versions ("1.0" and "1.0.0" in PyPI) match.
	i := sort.Search(len(e.parsedVer), func(i int) bool {
		c, err := e.parsedVer[i].v.Compare(pv)
		return err != nil || c >= 0
	})
	if i < len(e.parsedVer) {
		if c, err := e.parsedVer[i].v.Compare(pv); err == nil && c == 0 {
			return true
		}
	}
	return false
}
