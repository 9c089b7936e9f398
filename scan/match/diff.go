package match

import (
	"context"
	"iter"
	"sort"

	"github.com/vetted-dev/vetted/scan/sbom"
)

// Delta is what changed between two indexes: the packages whose records were added, changed,
// withdrawn or removed, and the ecosystems whose coverage changed. Packages outside it match
// the same way in both indexes, so a re-scan only needs to look at the packages inside it.
type Delta struct {
	old, new   *Index
	touched    map[pkgKey]bool
	ecoChanged map[string]bool // base ecosystems covered by one index and not the other
	all        bool            // every package is touched (FullDelta)
	Changed    int             // records added, modified, withdrawn or removed
}

// Diff computes the delta from old to new.
func Diff(old, new *Index) *Delta {
	d := &Delta{old: old, new: new, touched: map[pkgKey]bool{}, ecoChanged: map[string]bool{}}
	for id, nv := range new.vulns {
		ov, ok := old.vulns[id]
		if ok && ov.hash == nv.hash {
			continue
		}
		d.Changed++
		for _, k := range nv.keys {
			d.touched[k] = true
		}
		if ok {
			for _, k := range ov.keys {
				d.touched[k] = true
			}
		}
	}
	for id, ov := range old.vulns {
		if _, ok := new.vulns[id]; ok {
			continue
		}
		d.Changed++
		for _, k := range ov.keys {
			d.touched[k] = true
		}
	}
	for e := range old.covered {
		if !new.Covers(e) {
			d.ecoChanged[base(e)] = true
		}
	}
	for e := range new.covered {
		if !old.Covers(e) {
			d.ecoChanged[base(e)] = true
		}
	}
	return d
}

func base(eco string) string { return keyOf(eco, "").eco }

// Change is what a re-scan found for one stored package list.
type Change struct {
	ID string // the caller's id for the package list (an SBOM digest, a version id)
	// New are findings present with the new snapshot and not with the old one.
	New []Finding
	// Resolved are findings present with the old snapshot and gone with the new one.
	Resolved []Finding
	// NewlyNotAssessed and NoLongerNotAssessed track packages whose coverage changed.
	NewlyNotAssessed    []NotAssessed
	NoLongerNotAssessed []NotAssessed
}

// Empty reports whether nothing changed.
func (c *Change) Empty() bool {
	return len(c.New)+len(c.Resolved)+len(c.NewlyNotAssessed)+len(c.NoLongerNotAssessed) == 0
}

type matchKey struct {
	key     pkgKey
	eco     string
	version string
	reason  string
}

// pkgDiff is the outcome of one distinct package under the two indexes.
type pkgDiff struct {
	added, resolved []Finding
	naOld, naNew    string // not-assessed reasons
	empty           bool
}

// Rescan walks stored package lists (id → packages) and yields, for each list where something
// changed, the new and resolved findings. Only packages the delta touches are looked at, and
// each distinct package is matched once per index for the whole walk.
func (d *Delta) Rescan(ctx context.Context, sets iter.Seq2[string, []sbom.Package], yield func(Change) error) error {
	cache := map[matchKey]*pkgDiff{}
	get := func(p sbom.Package, k pkgKey) *pkgDiff {
		mk := matchKey{k, p.Ecosystem, p.Version, p.Reason}
		if r, ok := cache[mk]; ok {
			return r
		}
		of, or := d.old.MatchPackage(p)
		nf, nr := d.new.MatchPackage(p)
		r := &pkgDiff{added: minus(nf, of), resolved: minus(of, nf), naOld: or, naNew: nr}
		r.empty = len(r.added) == 0 && len(r.resolved) == 0 && (or == "") == (nr == "")
		cache[mk] = r
		return r
	}
	n := 0
	for id, pkgs := range sets {
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ch := Change{ID: id}
		for _, p := range pkgs {
			k := keyOf(p.Ecosystem, p.Name)
			if !d.all && !d.touched[k] && !d.ecoChanged[k.eco] {
				continue
			}
			r := get(p, k)
			if r.empty {
				continue
			}
			switch {
			case r.naOld == "" && r.naNew != "":
				ch.NewlyNotAssessed = append(ch.NewlyNotAssessed, NotAssessed{Package: p, Reason: r.naNew})
			case r.naOld != "" && r.naNew == "":
				ch.NoLongerNotAssessed = append(ch.NoLongerNotAssessed, NotAssessed{Package: p, Reason: r.naOld})
			}
			ch.New = appendWithPackage(ch.New, r.added, p)
			ch.Resolved = appendWithPackage(ch.Resolved, r.resolved, p)
		}
		if ch.Empty() {
			continue
		}
		if err := yield(ch); err != nil {
			return err
		}
	}
	return nil
}

// minus returns the findings of a with no record in common with any finding of b: a finding
// is new when none of its records matched before (an alias appearing is not a new finding).
func minus(a, b []Finding) []Finding {
	if len(a) == 0 {
		return nil
	}
	had := map[string]bool{}
	for _, f := range b {
		for _, id := range f.Vulnerability.Records {
			had[id] = true
		}
		had[f.Vulnerability.ID] = true
		for _, id := range f.Vulnerability.Aliases {
			had[id] = true
		}
	}
	var out []Finding
	for _, f := range a {
		seen := had[f.Vulnerability.ID]
		for _, id := range f.Vulnerability.Records {
			seen = seen || had[id]
		}
		if !seen {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Vulnerability.ID < out[j].Vulnerability.ID })
	return out
}

// appendWithPackage appends copies of cached findings carrying the list's exact package (the
// cache is shared between lists whose entries differ only in fields matching ignores).
func appendWithPackage(dst, fs []Finding, p sbom.Package) []Finding {
	for _, f := range fs {
		f.Package = p
		dst = append(dst, f)
	}
	return dst
}

// FullDelta is a delta that touches every package: a re-scan re-matches everything (each
// distinct package once). Use it when the old index is unavailable or untrusted.
func FullDelta(old, new *Index) *Delta {
	d := Diff(old, new)
	d.all = true
	return d
}
