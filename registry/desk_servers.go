package registry

import (
	"context"
	"time"
)

// ServerSummary is one server as the reviewers' servers page lists it.
type ServerSummary struct {
	Name string
	// Latest is the latest published version ("" when none is published).
	Latest string
	// Counts are its stored versions by status (rejected publishes are not stored).
	Counts map[Status]int
	// Versions is how many versions it has stored.
	Versions int
	// LastVersion, LastStatus and LastChange are the most recently changed version, its
	// status and when it changed: the server's last decision.
	LastVersion string
	LastStatus  Status
	LastChange  time.Time
}

// ServerQuery selects servers for Desk.Servers.
type ServerQuery struct {
	// Search keeps servers whose name contains it (as ListQuery.Search).
	Search string
	// After is the last server name of the previous page ("": from the start).
	After string
	// Limit is the page size (1..200; default 50).
	Limit int
}

var everyStatus = []Status{StatusPublished, StatusPendingReview, StatusRejected, StatusQuarantined, StatusDeprecated, StatusDeleted}

// afterAllVersions is a version string ordered after every real one, so that a keyset
// cursor on (name, afterAllVersions) skips the rest of that server's versions.
const afterAllVersions = "\U0010FFFF"

// Servers returns a page of servers in name order, each summarized over its stored versions
// in every status, and whether more follow. It reads versions through the store's indexed
// search and keyset cursor, so a page costs the versions of the servers on it.
func (d *Desk) Servers(ctx context.Context, q ServerQuery) ([]ServerSummary, bool, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	var after *Key
	if q.After != "" {
		after = &Key{Name: q.After, Version: afterAllVersions}
	}
	var out []ServerSummary
	for {
		page, more, err := d.store.ListVersionsPage(ctx, ListQuery{After: after, Limit: 1000, Search: q.Search, Statuses: everyStatus})
		if err != nil {
			return nil, false, err
		}
		for _, v := range page {
			if len(out) == 0 || out[len(out)-1].Name != v.Name {
				if len(out) == q.Limit {
					return out, true, nil
				}
				out = append(out, ServerSummary{Name: v.Name, Counts: map[Status]int{}})
			}
			s := &out[len(out)-1]
			s.Counts[v.Status]++
			s.Versions++
			if v.IsLatest {
				s.Latest = v.Version
			}
			if v.UpdatedAt.After(s.LastChange) || s.LastVersion == "" {
				s.LastVersion, s.LastStatus, s.LastChange = v.Version, v.Status, v.UpdatedAt
			}
		}
		if !more || len(page) == 0 {
			return out, false, nil
		}
		k := page[len(page)-1].Key()
		after = &k
	}
}
