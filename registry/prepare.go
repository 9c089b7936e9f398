package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// TimePrecision is the precision stores keep timestamps at (PostgreSQL's). Stores truncate
// PublishedAt and UpdatedAt to it, so that every backend returns the same times.
const TimePrecision = time.Microsecond

// MaxListLimit is the largest ListQuery.Limit a store accepts.
const MaxListLimit = 1000

// MaxKeyLen is the longest server name or version string a store accepts, in bytes (the
// official registry allows 200 characters for names and 255 for versions, both ASCII in
// practice); it keeps keys within every backend's index limits.
const MaxKeyLen = 255

// ValidText reports whether s can be a name, version or search string: valid UTF-8
// without NUL bytes, which no backend can store or compare reliably. Stores answer
// ErrNotFound for lookups of such a key (it cannot exist) and ErrInvalid for writes.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// ContentDigest returns "sha256:<hex>" of b.
func ContentDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PrepareNew validates v for CreateVersion and fills in what the caller may leave out:
// ContentDigest (from ServerJSON), PublishedAt (now), UpdatedAt (PublishedAt), Served
// (ServerJSON). Times are converted to UTC at TimePrecision; IsLatest is cleared (the store
// computes it). Every backend calls it, so that they agree on what is accepted.
func PrepareNew(v Version, now time.Time) (Version, error) {
	switch {
	case v.Name == "":
		return Version{}, fmt.Errorf("version: empty server name: %w", ErrInvalid)
	case v.Version == "":
		return Version{}, fmt.Errorf("version of %q: empty version string: %w", v.Name, ErrInvalid)
	case !v.Status.Valid():
		return Version{}, fmt.Errorf("version %s@%s: unknown status %q: %w", v.Name, v.Version, v.Status, ErrInvalid)
	case !ValidText(v.Name) || len(v.Name) > MaxKeyLen:
		return Version{}, fmt.Errorf("version: server name %q is not valid UTF-8 text of at most %d bytes: %w", truncate(v.Name), MaxKeyLen, ErrInvalid)
	case !ValidText(v.Version) || len(v.Version) > MaxKeyLen:
		return Version{}, fmt.Errorf("version of %s: version %q is not valid UTF-8 text of at most %d bytes: %w", v.Name, truncate(v.Version), MaxKeyLen, ErrInvalid)
	case len(v.ServerJSON) == 0:
		return Version{}, fmt.Errorf("version %s@%s: empty server.json: %w", v.Name, v.Version, ErrInvalid)
	}
	if v.ContentDigest == "" {
		v.ContentDigest = ContentDigest(v.ServerJSON)
	}
	if v.Served == nil {
		v.Served = v.ServerJSON
	}
	if v.PublishedAt.IsZero() {
		v.PublishedAt = now
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = v.PublishedAt
	}
	v.PublishedAt = StoreTime(v.PublishedAt)
	v.UpdatedAt = StoreTime(v.UpdatedAt)
	v.IsLatest = false
	return v, nil
}

// StoreTime returns t as stores keep it: UTC, truncated to TimePrecision.
func StoreTime(t time.Time) time.Time {
	return t.UTC().Truncate(TimePrecision)
}

// Validate checks q's limit, statuses and cursor; errors wrap ErrInvalid.
func (q ListQuery) Validate() error {
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return fmt.Errorf("list: limit %d out of range 1..%d: %w", q.Limit, MaxListLimit, ErrInvalid)
	}
	for _, s := range q.Statuses {
		if !s.Valid() {
			return fmt.Errorf("list: unknown status %q: %w", s, ErrInvalid)
		}
	}
	if q.After != nil && q.After.Name == "" {
		return fmt.Errorf("list: cursor with empty server name: %w", ErrInvalid)
	}
	for field, s := range map[string]string{"search": q.Search, "version": q.Version} {
		if !ValidText(s) {
			return fmt.Errorf("list: %s %q is not valid UTF-8 text: %w", field, truncate(s), ErrInvalid)
		}
	}
	if q.After != nil && (!ValidText(q.After.Name) || !ValidText(q.After.Version)) {
		return fmt.Errorf("list: cursor is not valid UTF-8 text: %w", ErrInvalid)
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// StatusesOrPublished returns q.Statuses without duplicates, or [StatusPublished] when it
// is empty.
func (q ListQuery) StatusesOrPublished() []Status {
	if len(q.Statuses) == 0 {
		return []Status{StatusPublished}
	}
	out := make([]Status, 0, len(q.Statuses))
	seen := map[Status]bool{}
	for _, s := range q.Statuses {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// LatestOf returns the version string of the latest among the published versions in vs, and
// false when none is published. Non-published entries are ignored, so a store can pass every
// version of a server, in any order: ties (equal precedence and publish time) go to the
// smallest version string, whatever the order of vs.
func LatestOf(vs []Version) (string, bool) {
	pub := make([]Version, 0, len(vs))
	for _, v := range vs {
		if v.Status == StatusPublished {
			pub = append(pub, v)
		}
	}
	sort.Slice(pub, func(i, j int) bool {
		if !pub[i].PublishedAt.Equal(pub[j].PublishedAt) {
			return pub[i].PublishedAt.Before(pub[j].PublishedAt)
		}
		return pub[i].Version < pub[j].Version
	})
	i := Latest(pub)
	if i < 0 {
		return "", false
	}
	return pub[i].Version, true
}
