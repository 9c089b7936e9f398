package match

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/semantic"

	"github.com/vetted-dev/vetted/scan/sbom"
)

// Vulnerability describes the vulnerability of a finding: the merged alias group.
type Vulnerability struct {
	// ID is the group's representative id (see pickID); Aliases are every other id of the group.
	ID      string   `json:"id"`
	Aliases []string `json:"aliases"`
	// Records are the ids of the mirror's records that matched (one or more per group).
	Records  []string `json:"records"`
	Summary  string   `json:"summary,omitempty"`
	Severity Severity `json:"severity"`
	// Modified is the newest "modified" time of the matched records.
	Modified string `json:"modified,omitempty"`
}

// Finding is one vulnerability (alias group) affecting one package version.
type Finding struct {
	Package       sbom.Package  `json:"package"`
	Vulnerability Vulnerability `json:"vulnerability"`
	// Fixed lists the versions that fix it (from the matched ranges), sorted; empty if none.
	Fixed []string `json:"fixed"`
	// Uncertain is set when a range could not be evaluated (an event version did not parse) and
	// the package was counted as affected to fail closed.
	Uncertain bool `json:"uncertain,omitempty"`
}

// NotAssessed is a package the snapshot cannot judge, with the reason.
type NotAssessed struct {
	Package sbom.Package `json:"package"`
	Reason  string       `json:"reason"`
}

// Result is the outcome of matching a package list against one snapshot.
type Result struct {
	SnapshotID  string        `json:"snapshotId"`
	Packages    int           `json:"packages"`
	Findings    []Finding     `json:"findings"`
	NotAssessed []NotAssessed `json:"notAssessed"`
}

// Match matches a package list (as extracted by package sbom) against the index.
func (x *Index) Match(pkgs []sbom.Package) *Result {
	res := &Result{SnapshotID: x.snapshotID, Packages: len(pkgs), Findings: []Finding{}, NotAssessed: []NotAssessed{}}
	for _, p := range pkgs {
		fs, reason := x.MatchPackage(p)
		if reason != "" {
			res.NotAssessed = append(res.NotAssessed, NotAssessed{Package: p, Reason: reason})
			continue
		}
		res.Findings = append(res.Findings, fs...)
	}
	return res
}

// MatchPackage matches one package. A non-empty reason means the package was not assessed.
func (x *Index) MatchPackage(p sbom.Package) (findings []Finding, notAssessed string) {
	if !p.Assessable() {
		return nil, p.Reason
	}
	if !x.Covers(p.Ecosystem) {
		return nil, fmt.Sprintf("ecosystem %s is not in the OSV mirror", p.Ecosystem)
	}
	pv, err := semantic.Parse(p.Version, p.Ecosystem)
	if err != nil {
		if errors.Is(err, semantic.ErrUnsupportedEcosystem) {
			return nil, fmt.Sprintf("no version ordering for ecosystem %s", p.Ecosystem)
		}
		return nil, fmt.Sprintf("version %q is not a valid %s version", p.Version, p.Ecosystem)
	}
	var sv semantic.Version // the version in SemVer order, for SEMVER ranges; parsed on demand
	type hit struct {
		v         *vuln
		sev       Severity
		fixed     []string
		uncertain bool
	}
	var hits []hit
	for _, e := range x.byPkg[keyOf(p.Ecosystem, p.Name)] {
		if !ecosystemMatches(e.ecosystem, p.Ecosystem) {
			continue
		}
		e.compile()
		affected, uncertain := false, false
		var fixed []string
		if e.inVersions(p.Version, pv, p.Ecosystem) {
			affected = true
		}
		for i := range e.ranges {
			r := &e.ranges[i]
			v := pv
			if r.semver {
				if sv == nil {
					sv = semantic.ParseSemverVersion(p.Version)
				}
				v = sv
			}
			in, fx, ok := r.contains(v)
			if !ok {
				affected, uncertain = true, true
				continue
			}
			if in {
				affected = true
				fixed = append(fixed, fx...)
			}
		}
		if !affected {
			continue
		}
		sev := e.vuln.severity
		if e.hasSev {
			sev = maxSeverity(sev, e.severity)
		}
		hits = append(hits, hit{v: e.vuln, sev: sev, fixed: fixed, uncertain: uncertain})
	}
	if len(hits) == 0 {
		return nil, ""
	}
	// Merge hits of the same record (several affected blocks), then alias groups.
	byID := map[string]*hit{}
	var order []string
	for i := range hits {
		h := &hits[i]
		if prev, ok := byID[h.v.id]; ok {
			prev.sev = maxSeverity(prev.sev, h.sev)
			prev.fixed = append(prev.fixed, h.fixed...)
			prev.uncertain = prev.uncertain || h.uncertain
			continue
		}
		byID[h.v.id] = h
		order = append(order, h.v.id)
	}
	groups := groupAliases(order, func(id string) []string { return byID[id].v.aliases })
	for _, g := range groups {
		f := Finding{Package: p, Fixed: []string{}}
		ids := map[string]bool{}
		for _, id := range g {
			h := byID[id]
			f.Vulnerability.Records = append(f.Vulnerability.Records, id)
			ids[id] = true
			for _, a := range h.v.aliases {
				ids[a] = true
			}
			f.Vulnerability.Severity = maxSeverity(f.Vulnerability.Severity, h.sev)
			f.Fixed = append(f.Fixed, h.fixed...)
			f.Uncertain = f.Uncertain || h.uncertain
			if h.v.modified > f.Vulnerability.Modified {
				f.Vulnerability.Modified = h.v.modified
			}
		}
		sort.Strings(f.Vulnerability.Records)
		f.Vulnerability.ID = pickID(f.Vulnerability.Records)
		f.Vulnerability.Summary = byID[f.Vulnerability.ID].v.summary
		for _, id := range f.Vulnerability.Records {
			if f.Vulnerability.Summary == "" {
				f.Vulnerability.Summary = byID[id].v.summary
			}
		}
		delete(ids, f.Vulnerability.ID)
		f.Vulnerability.Aliases = sortedKeys(ids)
		f.Fixed = sortVersions(uniq(f.Fixed), p.Ecosystem)
		findings = append(findings, f)
	}
	sort.Slice(findings, func(i, j int) bool { return findings[i].Vulnerability.ID < findings[j].Vulnerability.ID })
	return findings, ""
}

// ecosystemMatches compares an affected block's ecosystem with the package's: the base must be
// equal, and a release suffix ("Alpine:v3.22") must be equal when both carry one.
func ecosystemMatches(affected, pkg string) bool {
	ab, as, aok := strings.Cut(affected, ":")
	pb, ps, pok := strings.Cut(pkg, ":")
	if ab != pb {
		return false
	}
	return !aok || !pok || as == ps
}

// pickID chooses the representative id of an alias group among the matched records:
// the database's own id (GO-, PYSEC-, RUSTSEC-, …) before GHSA, GHSA before CVE.
func pickID(records []string) string {
	rank := func(id string) int {
		switch {
		case strings.HasPrefix(id, "CVE-"):
			return 2
		case strings.HasPrefix(id, "GHSA-"):
			return 1
		}
		return 0
	}
	best := records[0]
	for _, id := range records[1:] {
		if rank(id) < rank(best) || rank(id) == rank(best) && id < best {
			best = id
		}
	}
	return best
}

// groupAliases partitions record ids into connected groups: two records are one
// vulnerability when one names the other as an alias or they share an alias.
func groupAliases(ids []string, aliases func(string) []string) [][]string {
	parent := map[string]string{}
	find := func(s string) string {
		for parent[s] != s {
			parent[s] = parent[parent[s]]
			s = parent[s]
		}
		return s
	}
	union := func(a, b string) {
		if _, ok := parent[a]; !ok {
			parent[a] = a
		}
		if _, ok := parent[b]; !ok {
			parent[b] = b
		}
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[ra] = rb
		}
	}
	for _, id := range ids {
		union(id, id)
		for _, a := range aliases(id) {
			union(id, a)
		}
	}
	groups := map[string][]string{}
	var roots []string
	for _, id := range ids {
		r := find(id)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], id)
	}
	out := make([][]string, 0, len(roots))
	for _, r := range roots {
		out = append(out, groups[r])
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func sortVersions(vs []string, ecosystem string) []string {
	sort.SliceStable(vs, func(i, j int) bool {
		a, err := semantic.Parse(vs[i], ecosystem)
		if err != nil {
			return vs[i] < vs[j]
		}
		c, err := a.CompareStr(vs[j])
		if err != nil {
			return vs[i] < vs[j]
		}
		return c < 0
	})
	return vs
}
