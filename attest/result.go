package attest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// Kind of a verified item: signature, sbom, provenance, tools or other.
type Kind = intoto.Kind

// Kinds of verified items.
const (
	KindSignature  = intoto.KindSignature
	KindSBOM       = intoto.KindSBOM
	KindProvenance = intoto.KindProvenance
	KindTools      = intoto.KindTools
	KindOther      = intoto.KindOther
	// KindPublish is a package registry's own attestation that it accepted the artifact
	// (npm's publish attestation, signed by the registry's key, not a policy authority).
	KindPublish Kind = "publish"
)

// Artifact types.
const (
	ArtifactOCI = "oci"
	ArtifactNPM = "npm"
)

// Artifact is what a package resolved to, whatever its type: everything verified is bound
// to one of its digests.
type Artifact struct {
	// Type is "oci" or "npm".
	Type string `json:"type"`
	// Name is the OCI repository or the npm package name.
	Name string `json:"name"`
	// Version is the npm version (empty for OCI, which is addressed by digest).
	Version string `json:"version,omitempty"`
	// Locator is where the bytes are: repository@digest, or the npm tarball URL (empty when
	// verified from a local file).
	Locator string `json:"locator,omitempty"`
	// Digests maps an algorithm to a lowercase hex digest: OCI sha256 (the manifest); npm
	// sha512 (the registry's integrity) and sha256 (computed by Vetted).
	Digests map[string]string `json:"digests"`
}

// Predicate types Vetted classifies.
const (
	PredicateSPDX       = intoto.PredicateSPDX
	PredicateCycloneDX  = intoto.PredicateCycloneDX
	PredicateSLSAv02    = intoto.PredicateSLSAv02
	PredicateSLSAv1     = intoto.PredicateSLSAv1
	PredicateCosignSign = intoto.PredicateCosignSign
	// PredicateToolManifest is Vetted's tool-manifest predicate type.
	PredicateToolManifest = intoto.PredicateToolManifest
)

// Provenance is the build provenance extracted from a verified SLSA predicate, completed with
// the signing certificate's Fulcio extensions where the predicate is silent.
type Provenance = intoto.Provenance

// Result is the outcome of verifying one image against one policy. It is JSON-serializable
// for storage; predicate bytes are the verified ones.
type Result struct {
	Ref        string `json:"ref"`
	Repository string `json:"repository"`
	// Artifact is what Ref resolved to, with its type and digests.
	Artifact *Artifact `json:"artifact,omitempty"`
	// Digest is what Ref resolved to (OCI: the manifest sha256; npm: the tarball's
	// "sha512:<hex>"); everything below is about this digest only.
	Digest     string    `json:"digest"`
	VerifiedAt time.Time `json:"verifiedAt"`
	Passed     bool      `json:"passed"`
	// Failures are the checks that failed for the image; empty when Passed.
	Failures []Failure `json:"failures,omitempty"`
	// Items are the verified signatures and attestations.
	Items []Item `json:"items"`
	// Rejected are candidates that did not verify, each with the check that rejected it.
	Rejected []Rejection `json:"rejected,omitempty"`
	// Provenance is extracted from the first verified provenance item.
	Provenance *Provenance `json:"provenance,omitempty"`
	// SBOM, ProvenancePredicate and ToolManifest carry the first verified predicate of each
	// kind, for the pipeline to use.
	SBOM                *Evidence `json:"sbom,omitempty"`
	ProvenancePredicate *Evidence `json:"provenancePredicate,omitempty"`
	ToolManifest        *Evidence `json:"toolManifest,omitempty"`
}

// Evidence is a verified predicate.
type Evidence struct {
	PredicateType string `json:"predicateType"`
	// Item indexes Result.Items.
	Item      int             `json:"item"`
	Predicate json.RawMessage `json:"predicate"`
}

// Item is one verified signature or attestation.
type Item struct {
	Kind Kind `json:"kind"`
	// Candidate names where it was found (source, manifest, layer).
	Candidate string `json:"candidate"`
	// Authority is the policy authority whose key or identity verified it.
	Authority string `json:"authority"`
	// SignerIdentity is the certificate SAN (keyless) or the key fingerprint.
	SignerIdentity string `json:"signerIdentity"`
	// Issuer is the OIDC issuer of a keyless certificate.
	Issuer string `json:"issuer,omitempty"`
	// Certificate holds the Fulcio extensions of a keyless certificate.
	Certificate *CertificateFacts `json:"certificate,omitempty"`
	LogEntries  []LogEntry        `json:"logEntries,omitempty"`
	Timestamps  []Timestamp       `json:"timestamps,omitempty"`
	// PredicateType is empty for plain signatures (simplesigning, message signatures).
	PredicateType string `json:"predicateType,omitempty"`
	// SubjectDigest is the artifact digest ("alg:hex") the item is bound to.
	SubjectDigest string `json:"subjectDigest"`
	// BlobDigest is the digest of the verified blob (bundle, DSSE envelope or simplesigning
	// payload); Blob holds its bytes for evidence storage.
	BlobDigest string `json:"blobDigest"`
	Blob       []byte `json:"-"`
	// Annotations are cosign's legacy signature annotations (signature, certificate, Rekor
	// bundle, timestamp) that, with Blob, make up a legacy signature.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// CertificateFacts are the Fulcio extensions of a verified signing certificate.
type CertificateFacts struct {
	SourceRepositoryURI    string `json:"sourceRepositoryURI,omitempty"`
	SourceRepositoryRef    string `json:"sourceRepositoryRef,omitempty"`
	SourceRepositoryDigest string `json:"sourceRepositoryDigest,omitempty"`
	BuildSignerURI         string `json:"buildSignerURI,omitempty"`
	BuildTrigger           string `json:"buildTrigger,omitempty"`
	RunnerEnvironment      string `json:"runnerEnvironment,omitempty"`
	NotBefore              string `json:"notBefore,omitempty"`
}

// LogEntry is a verified transparency-log entry.
type LogEntry struct {
	LogID          string    `json:"logId"`
	LogIndex       int64     `json:"logIndex"`
	IntegratedTime time.Time `json:"integratedTime"`
}

// Timestamp is a verified time the signature existed at (log integrated time, RFC 3161
// timestamp, or the verification time for keys without a validity window).
type Timestamp struct {
	Type string    `json:"type"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// Err returns nil when the image passed, else a *FailedError listing the failed checks.
func (r *Result) Err() error {
	if r.Passed {
		return nil
	}
	return &FailedError{Failures: r.Failures}
}

// FailedChecks lists the names of the failed checks.
func (r *Result) FailedChecks() []string {
	out := make([]string, len(r.Failures))
	for i, f := range r.Failures {
		out[i] = f.Check
	}
	return out
}

// Summary is a human-readable account of the result.
func (r *Result) Summary() string {
	var b strings.Builder
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s %s\n  digest: %s\n", verdict, r.Ref, r.Digest)
	for _, it := range r.Items {
		fmt.Fprintf(&b, "  verified %s", it.Kind)
		if it.PredicateType != "" {
			fmt.Fprintf(&b, " (%s)", it.PredicateType)
		}
		fmt.Fprintf(&b, " by %s: %s", it.Authority, it.SignerIdentity)
		if it.Issuer != "" {
			fmt.Fprintf(&b, " [%s]", it.Issuer)
		}
		if len(it.LogEntries) > 0 {
			fmt.Fprintf(&b, ", %d log entries", len(it.LogEntries))
		}
		b.WriteString("\n")
	}
	if p := r.Provenance; p != nil {
		fmt.Fprintf(&b, "  provenance: builder %s, source %s@%s (%s)", p.BuilderID, p.SourceRepo, p.Ref, p.Commit)
		if p.Workflow != "" {
			fmt.Fprintf(&b, ", workflow %s", p.Workflow)
		}
		if p.Trigger != "" {
			fmt.Fprintf(&b, ", trigger %s", p.Trigger)
		}
		b.WriteString("\n")
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  FAILED %s: %s\n", f.Check, f.Reason)
	}
	for _, rj := range r.Rejected {
		fmt.Fprintf(&b, "  rejected %s: %s: %s\n", rj.Candidate, rj.Check, rj.Reason)
	}
	return b.String()
}
