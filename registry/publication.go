package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Publication is everything one publish writes, in one transaction, after every check ran:
// the version, its pinned packages, the evidence blobs, the verification result, provenance,
// the SBOM's package list, the scan result with its OSV snapshot, the tool manifest, the
// decision with its checks, the registry's signed attestation, and the audit event.
type Publication struct {
	// Version is the version row (Status is the decision's status).
	Version Version
	// Packages are the resolved OCI packages, by server.json index.
	Packages []PinnedPackage
	// Blobs are the evidence blobs, stored once per digest.
	Blobs []Blob
	// Record is the per-version evidence (JSON documents and digests).
	Record VersionRecord
	// Audit is the decision's audit event; the store adds the version's seal to its data
	// (WithSeal) and seals it onto the chain (SealAudit) inside the transaction.
	Audit AuditEvent
	// SeenNamespaces, when not nil, are the namespaces the look-alike check compared the
	// version's namespace with. When that namespace is new, the store serializes its
	// creation with every other new namespace's and answers ErrNamespacesChanged if a
	// namespace outside SeenNamespaces appeared meanwhile; the pipeline then checks again.
	SeenNamespaces []string
}

// ErrNamespacesChanged: a namespace appeared between the look-alike check and the commit of
// a version in a new namespace. Nothing was written.
var ErrNamespacesChanged = errors.New("namespaces changed since the look-alike check")

// NamespacesChanged is what stores run, under their namespace-creation lock, before
// recording a version of name: current are the namespaces stored now.
func NamespacesChanged(name string, seen, current []string) error {
	ns := Namespace(name)
	if seen == nil || slices.Contains(seen, ns) {
		return nil
	}
	for _, c := range current {
		if c != ns && !slices.Contains(seen, c) {
			return fmt.Errorf("new namespace %s: namespace %s appeared during the publish: %w", ns, c, ErrNamespacesChanged)
		}
	}
	return nil
}

// NewNamespace reports whether recording a version of name may create a namespace the
// look-alike check must be serialized for.
func (p Publication) NewNamespace() bool {
	return p.SeenNamespaces != nil && !slices.Contains(p.SeenNamespaces, Namespace(p.Version.Name))
}

// PinnedPackage is one OCI package of a version, resolved and pinned.
type PinnedPackage struct {
	Index int `json:"index"`
	// Identifier is the identifier as submitted (e.g. "ghcr.io/acme/weather:1.0").
	Identifier string `json:"identifier"`
	// Digest is the image manifest digest verified ("sha256:…").
	Digest string `json:"digest"`
	// Pinned is the reference served to clients ("ghcr.io/acme/weather@sha256:…").
	Pinned string `json:"pinned"`
}

// VersionRecord is the evidence a version keeps beside its row. JSON fields hold the typed
// documents of attest, scan and the tool-manifest code as they serialized them.
type VersionRecord struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Decision Decision `json:"decision"`
	Checks   []Check  `json:"checks"`
	// Actor is who published.
	Actor     string    `json:"actor"`
	DecidedAt time.Time `json:"decidedAt"`
	// Verification is the per-package verification results (JSON array).
	Verification json.RawMessage `json:"verification,omitempty"`
	// Provenance is the per-package provenance facts (JSON array).
	Provenance json.RawMessage `json:"provenance,omitempty"`
	// SBOMPackages is the SBOM package list per package (for re-scans without re-parsing).
	SBOMPackages json.RawMessage `json:"sbomPackages,omitempty"`
	// ScanSnapshot is the OSV snapshot id the scan ran against.
	ScanSnapshot string `json:"scanSnapshot,omitempty"`
	// ScanReport is the scan report (JSON), ScanSummary its summary.
	ScanReport  json.RawMessage `json:"scanReport,omitempty"`
	ScanSummary json.RawMessage `json:"scanSummary,omitempty"`
	// ToolManifestDigest is the manifest digest; ToolManifest the manifest bytes
	// (`{"tools":[…]}` as attested).
	ToolManifestDigest string          `json:"toolManifestDigest,omitempty"`
	ToolManifest       json.RawMessage `json:"toolManifest,omitempty"`
	// ToolReport is the lint findings and diff (JSON).
	ToolReport json.RawMessage `json:"toolReport,omitempty"`
	// VSA is the registry's DSSE envelope over its verification summary (nil until signed).
	VSA json.RawMessage `json:"vsa,omitempty"`
	// Evidence lists the blob digests this version references, with their roles.
	Evidence []EvidenceRef `json:"evidence,omitempty"`
}

// EvidenceRef ties a blob to a version: what role it plays, for which package.
type EvidenceRef struct {
	Package int    `json:"package"`
	Role    string `json:"role"`
	Digest  string `json:"digest"`
}

// PublishStore is what the pipeline needs from storage beyond Store. Backends implement it
// next to Store and pass registry/storetest's publish suite.
type PublishStore interface {
	// GetVersion returns one version whatever its status (ErrNotFound when none).
	GetVersion(ctx context.Context, k Key) (Version, error)
	// LatestPublished returns the latest published version of name (ErrNotFound when none).
	LatestPublished(ctx context.Context, name string) (Version, error)
	// Namespaces returns every namespace that has at least one version, in any status.
	Namespaces(ctx context.Context) ([]string, error)
	// VersionRecord returns the evidence record of a version (ErrNotFound when none).
	VersionRecord(ctx context.Context, k Key) (VersionRecord, error)
	// CommitPublication writes p in one transaction. If p.Version's name+version exists with
	// the same ContentDigest, nothing is written and it returns the stored version with
	// created=false; with a different ContentDigest, ErrConflict. Otherwise everything in p
	// is written — version (maintaining IsLatest), packages, blobs, record, audit event — or
	// nothing is.
	CommitPublication(ctx context.Context, p Publication) (stored Version, created bool, err error)
	// AppendAudit seals e onto the chain and stores it (used for decisions that write no
	// version, such as a rejection).
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
}

// EvidenceStore serves what was recorded.
type EvidenceStore interface {
	VersionRecord(ctx context.Context, k Key) (VersionRecord, error)
	// PinnedPackages returns the pinned packages of a version, by index.
	PinnedPackages(ctx context.Context, k Key) ([]PinnedPackage, error)
	// Blob returns an evidence blob by digest (ErrNotFound when none).
	Blob(ctx context.Context, digest string) (Blob, error)
	// AuditEvents returns up to limit events with Seq > after, in Seq order.
	AuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error)
}

// Transition changes a version's status (and optionally its scan result, signed
// attestation and served _meta) and records the audit event, in one transaction.
type Transition struct {
	Key Key
	// From lists the statuses the version may be in; otherwise ErrConflict (empty: any).
	From []Status
	To   Status
	At   time.Time
	// Reason is the public class of the move (stored with the version, served as the
	// official statusMessage); ignored, and cleared, when To is StatusPublished.
	Reason StatusReason
	// Scan, when set, replaces the version's scan result.
	Scan *ScanUpdate
	// VSA, when set, replaces the registry's signed attestation; Vetted the served _meta.
	VSA    json.RawMessage
	Vetted json.RawMessage
	// Exception, when set, is recorded (a reviewer accepting findings; an existing ID is
	// ErrConflict). EndException, when set, ends the exception it names (ErrConflict when
	// there is none for this version or it already ended).
	Exception    *Exception
	EndException *ExceptionEnd
	// Audit is sealed onto the chain in the same transaction; a zero Audit (empty Type)
	// records nothing, for updates that decide nothing (a re-scan that changed no verdict).
	Audit AuditEvent
}

// ScanUpdate is a new scan result for a version.
type ScanUpdate struct {
	Snapshot string
	Report   json.RawMessage
	Summary  json.RawMessage
}

// RescanItem is a recorded version as a re-scan needs it.
type RescanItem struct {
	Key          Key
	Status       Status
	Snapshot     string
	SBOMPackages json.RawMessage
	// ScanSummary is the stored scan summary (JSON ScanSummary).
	ScanSummary json.RawMessage
	Packages    []PinnedPackage
}

// LifecycleStore is what review, quarantine and continuous scanning need.
type LifecycleStore interface {
	// Transition applies t (see Transition).
	Transition(ctx context.Context, t Transition) (Version, error)
	// RescanItems returns the recorded versions in any of statuses with their SBOM package
	// lists, ordered by name and version.
	RescanItems(ctx context.Context, statuses ...Status) ([]RescanItem, error)
	// ClaimJob claims job for holder until now+ttl if it is unclaimed, expired, or already
	// held by holder, and if it last completed before notBefore (zero: any time). Exactly
	// one of several replicas gets true.
	ClaimJob(ctx context.Context, job, holder string, now time.Time, ttl time.Duration, notBefore time.Time) (bool, error)
	// CompleteJob records that holder finished job at now and releases the claim.
	CompleteJob(ctx context.Context, job, holder string, now time.Time) error
}

// CheckFrom returns ErrConflict when v's status is not one t allows.
func CheckFrom(v Version, t Transition) error {
	if len(t.From) == 0 {
		return nil
	}
	for _, s := range t.From {
		if v.Status == s {
			return nil
		}
	}
	return fmt.Errorf("%s@%s is %s, not %v: %w", v.Name, v.Version, v.Status, t.From, ErrConflict)
}
