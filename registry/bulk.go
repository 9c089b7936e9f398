package registry

import (
	"fmt"
	"time"
)

// BulkGroup is the versions of one server in a bulk create.
type BulkGroup struct {
	Name     string
	Versions []Version
}

// PrepareBulk runs PrepareNew on every version and groups them by server, in the order
// servers first appear. A version repeated with the same content is kept once; repeated
// with different content it is ErrConflict.
func PrepareBulk(vs []Version, now time.Time) ([]BulkGroup, error) {
	var groups []BulkGroup
	index := map[string]int{}
	seen := map[Key]string{}
	for _, v := range vs {
		v, err := PrepareNew(v, now)
		if err != nil {
			return nil, err
		}
		if d, ok := seen[v.Key()]; ok {
			if d != v.ContentDigest {
				return nil, fmt.Errorf("version %s@%s given twice with different content: %w", v.Name, v.Version, ErrConflict)
			}
			continue
		}
		seen[v.Key()] = v.ContentDigest
		i, ok := index[v.Name]
		if !ok {
			i = len(groups)
			index[v.Name] = i
			groups = append(groups, BulkGroup{Name: v.Name})
		}
		groups[i].Versions = append(groups[i].Versions, v)
	}
	return groups, nil
}

// BulkPlan is what a store does for one server in a bulk create.
type BulkPlan struct {
	// New are the versions to insert (those not stored yet).
	New []Version
	// Latest is the version that must carry IsLatest afterwards ("" for none).
	Latest string
}

// PlanBulk decides, for one server, which of incoming to insert given the versions already
// stored (only Version, Status, ContentDigest and PublishedAt of existing are used), and
// which version is latest afterwards. A stored version with different content is
// ErrConflict.
func PlanBulk(existing, incoming []Version) (BulkPlan, error) {
	stored := make(map[string]string, len(existing))
	for _, v := range existing {
		stored[v.Version] = v.ContentDigest
	}
	all := append([]Version(nil), existing...)
	var plan BulkPlan
	for _, v := range incoming {
		if d, ok := stored[v.Version]; ok {
			if d != v.ContentDigest {
				return BulkPlan{}, fmt.Errorf("version %s@%s already exists with different content (stored %s, submitted %s): %w",
					v.Name, v.Version, d, v.ContentDigest, ErrConflict)
			}
			continue
		}
		plan.New = append(plan.New, v)
		all = append(all, v)
	}
	plan.Latest, _ = LatestOf(all)
	return plan, nil
}
