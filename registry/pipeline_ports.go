package registry

import (
	"context"
	"encoding/json"
	"time"
)

// The pipeline's seams. Each is declared here, where it is used, and kept small; adapters
// over attest, scan and the tool-manifest code satisfy them (registry/adapters), and tests
// use hand-written fakes.

// Verifier resolves an OCI package to its digest and verifies it with the namespace's
// policy. It fetches evidence over the network; everything after it is pure.
type Verifier interface {
	VerifyPackage(ctx context.Context, req VerifyRequest) (*VerifiedPackage, error)
}

// VerifyRequest is one OCI package to verify.
type VerifyRequest struct {
	// ServerName selects the namespace's policy.
	ServerName string
	// Reference is the package identifier as submitted (a tag or digest reference).
	Reference string
	// RepositoryURL is server.json's repository.url ("" when absent); policies may require
	// the provenance's source repository to match it.
	RepositoryURL string
	// RegistryType is the package's registryType ("oci" when empty; "npm").
	RegistryType string
	// Version is the package's exact version (npm); Reference is then the package name.
	Version string
	// RegistryBaseURL is the package's registryBaseUrl ("" for the default registry).
	RegistryBaseURL string
	// FileSHA256 is the package's fileSha256 (MCPB: required; hex).
	FileSHA256 string
	// Evidence are publisher-supplied Sigstore bundles (JSON) for this publish; each must
	// bind to the package and verify.
	Evidence [][]byte
}

// VerifiedPackage is what verification proved about one image.
type VerifiedPackage struct {
	// Digest is the image manifest digest everything was verified against.
	Digest string
	// Pinned is the digest reference to serve ("registry/repo@sha256:…").
	Pinned string
	// Checks are the policy's checks (signature, sbom, provenance, tools.attestation) with
	// their outcomes. A required check that failed is a Fail.
	Checks []Check
	// Signers are the identities that signed (each "issuer|subject" or "key:<name>").
	Signers []Signer
	// Provenance is the extracted provenance summary, when verified provenance exists.
	Provenance *ProvenanceSummary
	// SBOM is the verified SBOM document (the attestation's predicate), nil when none.
	SBOM []byte
	// ToolManifest is the verified tool manifest (predicate bytes), nil when none.
	ToolManifest []byte
	// Result is the full typed verification result as JSON, for storage.
	Result json.RawMessage
	// Evidence are the bundles and statements that were verified.
	Evidence []RoledBlob
	// NPM is set for an npm package: what clients pin it by.
	NPM *NPMPin
	// PyPI is set for a PyPI package: its version and verified files.
	PyPI *PyPIPin
	// MCPB is set for an MCP bundle: its URL and verified fileSha256.
	MCPB *MCPBPin
}

// NPMPin is how a verified npm package is pinned: its exact version and tarball digests.
type NPMPin struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Integrity is the registry's dist.integrity ("sha512-<base64>"), checked byte for byte.
	Integrity string `json:"integrity"`
	// SHA256 is the tarball's sha256 ("sha256:<hex>"), computed by Vetted.
	SHA256 string `json:"sha256"`
	// TarballURL is dist.tarball, where the verified bytes were read.
	TarballURL string `json:"tarballUrl"`
	// SBOMSource says where the scanned SBOM came from: "attestation" (a verified SBOM
	// attestation) or "registry-generated" (built by Vetted from the verified tarball).
	SBOMSource string `json:"sbomSource,omitempty"`
	// Unpinned lists dependencies that are ranges only (no lockfile in the tarball).
	Unpinned []string `json:"unpinned,omitempty"`
	// Tarball is the verified tarball, for SBOM generation; never serialized.
	Tarball []byte `json:"-"`
}

// RoledBlob is an evidence blob with its role ("signature", "sbom", "provenance", "tools").
type RoledBlob struct {
	Role string
	Blob Blob
}

// Signer is one verified signing identity.
type Signer struct {
	// Kind is "keyless" or "key".
	Kind string `json:"kind"`
	// Identity is the certificate SAN or the key's name; Issuer the OIDC issuer (keyless).
	Identity string `json:"identity"`
	Issuer   string `json:"issuer,omitempty"`
	// For is what the identity signed: "signature", "sbom", "provenance", "tools".
	For string `json:"for"`
}

// ProvenanceSummary is the part of verified provenance clients see.
type ProvenanceSummary struct {
	BuilderID  string `json:"builderId,omitempty"`
	SourceRepo string `json:"sourceRepository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Workflow   string `json:"workflow,omitempty"`
	Trigger    string `json:"trigger,omitempty"`
	Runner     string `json:"runner,omitempty"`
}

// Scanner scans a verified SBOM against the current OSV snapshot with the scan policy.
type Scanner interface {
	ScanSBOM(ctx context.Context, sbom []byte, product ScanProduct) (*ScanOutcome, error)
}

// ScanProduct identifies what an SBOM describes (VEX statements apply per product).
type ScanProduct struct {
	ServerName string
	Version    string
	Digest     string
}

// ScanOutcome is one scan's result.
type ScanOutcome struct {
	// SnapshotID is the OSV snapshot the scan ran against.
	SnapshotID string
	// Packages is the SBOM's extracted package list (JSON), kept for re-scans.
	Packages json.RawMessage
	// Report is the full report (the scan package's stable JSON).
	Report json.RawMessage
	// Summary is what clients see.
	Summary ScanSummary
}

// ScanSummary summarizes a scan for clients and decides its check.
type ScanSummary struct {
	SnapshotID string `json:"snapshotId"`
	Packages   int    `json:"packages"`
	// Findings counts unsuppressed findings by severity ("critical", "high", …).
	Findings    map[string]int `json:"findings"`
	Suppressed  int            `json:"suppressed"`
	NotAssessed int            `json:"notAssessed"`
	// Outcome is the policy's verdict: Fail at or above the failing severity, Review when an
	// exception is needed (e.g. packages not assessed), Pass otherwise.
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`
}

// ToolInspector hashes, lints and diffs tool manifests. It is pure.
type ToolInspector interface {
	// Inspect checks manifest (a `{"tools":[…]}` document) of the server named server (its
	// server.json name, whose namespace the pipeline has authorized: the lint compares tool
	// names with the server's identity) and diffs it against previous (nil for a first
	// version).
	Inspect(server string, manifest, previous []byte) (*ToolReport, error)
}

// ToolReport is the outcome of inspecting a tool manifest.
type ToolReport struct {
	ManifestDigest string        `json:"manifestDigest"`
	Tools          []ToolDigest  `json:"tools"`
	Findings       []ToolFinding `json:"findings"`
	Added          []string      `json:"added,omitempty"`
	Removed        []string      `json:"removed,omitempty"`
	// Changed are existing tools whose definition changed (to be reviewed).
	Changed []string `json:"changed,omitempty"`
}

// ToolDigest is one tool's digest.
type ToolDigest struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// ToolFinding is one lint finding.
type ToolFinding struct {
	Tool     string `json:"tool"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Pointer  string `json:"pointer"`
	Message  string `json:"message"`
}

// Authorizer says whether the caller may publish a server name. The api layer passes one per
// request, built from the authenticated principal; nil error means allowed, otherwise the
// error says which rule denied.
type Authorizer interface {
	AuthorizePublish(serverName string) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(serverName string) error

func (f AuthorizerFunc) AuthorizePublish(serverName string) error { return f(serverName) }

// VSASigner signs the registry's verification summary for a published version.
type VSASigner interface {
	SignVSA(s VerificationSummary) (envelope []byte, err error)
}

// VerificationSummary is what the registry vouches for.
type VerificationSummary struct {
	ServerName string
	Version    string
	// Subjects are the image digests and the tool manifest digest.
	Subjects []Subject
	// Policy identifies the policy applied (e.g. "vetted:namespace/io.github.acme").
	Policy string
	// Result is "PASSED" (only published versions are vouched for).
	Result string
	// Levels are the verified levels (e.g. "SLSA_BUILD_LEVEL_2" when provenance was verified).
	Levels []string
	// Inputs are the evidence digests verified.
	Inputs []Subject
	// Time is when the decision was made.
	Time time.Time
}

// Subject is a name and a "sha256:…" digest.
type Subject struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}
