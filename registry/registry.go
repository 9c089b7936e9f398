package registry

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends and the pipeline wrap them with context (fmt.Errorf("…: %w", ErrX));
// the api package maps them to HTTP status codes with errors.Is in exactly one place.
var (
	// ErrNotFound: the server or version does not exist (or is not visible to the caller).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write contradicts what is stored, e.g. the same name and version with
	// different content. Versions are immutable.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed; the wrapping message names what is wrong.
	ErrInvalid = errors.New("invalid input")
)

// Status is where a version stands. Only StatusPublished versions are ever served to clients.
type Status string

const (
	StatusPublished     Status = "published"
	StatusPendingReview Status = "pending_review"
	StatusRejected      Status = "rejected"
	StatusQuarantined   Status = "quarantined"
	StatusDeprecated    Status = "deprecated"
	StatusDeleted       Status = "deleted"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPublished, StatusPendingReview, StatusRejected, StatusQuarantined, StatusDeprecated, StatusDeleted:
		return true
	}
	return false
}

// Version is one version of one server as the registry keeps it.
type Version struct {
	// Name is the server name, "namespace/name" (e.g. "io.github.acme/weather").
	Name string
	// Version is the server's version string as published.
	Version string
	// Status is where the version stands.
	Status Status
	// ServerJSON is the server.json document exactly as submitted, byte for byte.
	ServerJSON []byte
	// Served is the server.json that clients get (normalized; OCI identifiers pinned by
	// digest). It is what the read API serves under "server".
	Served []byte
	// Vetted is the JSON object served under Vetted's _meta key (verification results,
	// digests, scan summary). Empty means none yet.
	Vetted []byte
	// ContentDigest is "sha256:<hex>" of ServerJSON; it makes re-publishing identical
	// content idempotent and different content a conflict.
	ContentDigest string
	// PublishedAt is when the version was first recorded; UpdatedAt when anything about it
	// (status, metadata) last changed. Both are UTC.
	PublishedAt time.Time
	UpdatedAt   time.Time
	// IsLatest is true for exactly one published version of a server (if any is published):
	// the greatest by semver, falling back to publish time (see Latest).
	IsLatest bool
	// StatusReason is the public class of why the version left the published state (set by
	// Transition; empty while published). See StatusMessage.
	StatusReason StatusReason
	// Sealed is the audit event that created the version, read beside the row (nil when
	// none): the read path checks the row against it (CheckSealed). Writes ignore it.
	Sealed *AuditEvent
}

// Key identifies a version.
type Key struct {
	Name    string
	Version string
}

// Key returns the version's key.
func (v Version) Key() Key { return Key{Name: v.Name, Version: v.Version} }

// ListQuery selects versions for ListVersionsPage. Results are ordered by (Name, Version)
// byte-wise ascending, which makes After a stable keyset cursor.
type ListQuery struct {
	// After, when set, returns only versions ordered strictly after it.
	After *Key
	// Limit is the maximum number of versions returned (1..1000).
	Limit int
	// Search, when set, keeps servers whose name contains it: ASCII letters match
	// case-insensitively, every other character literally.
	Search string
	// UpdatedSince, when non-zero, keeps versions updated at or after it.
	UpdatedSince time.Time
	// Version, when set, keeps only versions with exactly this version string.
	Version string
	// LatestOnly keeps only the latest published version of each server.
	LatestOnly bool
	// Statuses keeps only these statuses; empty means StatusPublished only.
	Statuses []Status
	// Serving says the caller only serves the versions (renders them after CheckSealed):
	// ServerJSON is then read only where Served is empty, and is otherwise nil. It is most
	// of a row's bytes and nothing a client gets; CheckSealed asks for it
	// (ErrNeedsServerJSON) for a version sealed before served digests were recorded.
	Serving bool
}

// Store is what the registry needs from storage. Implementations: registry/sqlite (the
// embedded default) and registry/postgres. Every implementation passes registry/storetest.
//
// Methods that return a Version return ErrNotFound (wrapped) when there is none.
type Store interface {
	// Ping reports whether the store is reachable (used by /readyz).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error

	// CreateVersion records a new version. If name+version exists with the same
	// ContentDigest it returns the stored version and created=false (idempotent); with a
	// different ContentDigest it returns ErrConflict. The store maintains IsLatest for all
	// published versions of the server in the same transaction, using Latest.
	CreateVersion(ctx context.Context, v Version) (stored Version, created bool, err error)

	// SetStatus changes a version's status and UpdatedAt, recomputing IsLatest.
	SetStatus(ctx context.Context, k Key, s Status, at time.Time) (Version, error)

	// GetVersion returns one version whatever its status.
	GetVersion(ctx context.Context, k Key) (Version, error)

	// LatestPublished returns the published version of name with IsLatest set.
	LatestPublished(ctx context.Context, name string) (Version, error)

	// ListServerVersions returns every version of name with one of the statuses (empty:
	// published only), ordered by PublishedAt ascending. ErrNotFound when there are none.
	ListServerVersions(ctx context.Context, name string, statuses ...Status) ([]Version, error)

	// ListVersionsPage returns up to q.Limit versions matching q, in (Name, Version) order,
	// and whether more exist after the last one returned.
	ListVersionsPage(ctx context.Context, q ListQuery) (page []Version, more bool, err error)

	// ChangeSeq returns a number that grows whenever anything visible to clients may have
	// changed (a version created, a status changed). Caches compare it to decide whether
	// what they hold is still current; it is cheap to call. Read it BEFORE reading the data
	// it guards: the data is then at least as new as the number, never older.
	ChangeSeq(ctx context.Context) (int64, error)
}

// BulkCreator is an optional capability of a Store: record many versions in one
// transaction, with the rules of CreateVersion (identical content is skipped, different
// content is ErrConflict and nothing is recorded). It seeds large data sets (benchmarks,
// imports) far faster than one CreateVersion per version.
type BulkCreator interface {
	CreateVersions(ctx context.Context, vs []Version) (created int, err error)
}
