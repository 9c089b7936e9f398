package attest

import (
	"errors"
	"fmt"
	"strings"
)

// Check names. They are stable: they appear in results, logs, CLI output and stored records.
const (
	// CheckResolve: the reference could not be resolved to a digest.
	CheckResolve = "resolve"
	// CheckIntegrity: an npm tarball does not match the registry's integrity string.
	CheckIntegrity = "integrity"
	// CheckDiscovery: the registry's signatures and attestations could not be read within bounds.
	CheckDiscovery = "discovery"
	// CheckBundle: a candidate is not a well-formed Sigstore bundle or cosign signature.
	CheckBundle = "bundle"
	// CheckStatement: a signed payload is not a well-formed in-toto statement or simplesigning payload.
	CheckStatement = "statement"
	// CheckSubject: what was signed is not this image (statement subject, simplesigning
	// docker-manifest-digest, or message digest).
	CheckSubject = "subject"
	// CheckAuthority: no authority of the policy can be used for this candidate (keyless
	// signature but only keys allowed for its kind, or vice versa).
	CheckAuthority = "authority"
	// CheckIdentity: the certificate's issuer, SAN or extensions do not match.
	CheckIdentity = "identity"
	// CheckCertificate: the certificate does not chain to the trusted root at the signing time.
	CheckCertificate = "certificate"
	// CheckSCT: not enough verified signed certificate timestamps.
	CheckSCT = "sct"
	// CheckTlog: transparency-log entries missing, unverifiable or not enough distinct logs.
	CheckTlog = "tlog"
	// CheckTimestamp: no (or not enough) trusted timestamps.
	CheckTimestamp = "timestamp"
	// CheckKey: the signature time is outside the key's validity window.
	CheckKey = "key"
	// CheckSignature: the signature does not verify.
	CheckSignature = "signature"
	// CheckPredicate: a verified predicate is malformed for its type.
	CheckPredicate = "predicate"
	// CheckBuilder: the provenance's builder is not allowed.
	CheckBuilder = "builder"
	// CheckSourceRepository: the source repository is not the expected one.
	CheckSourceRepository = "source-repository"
	// CheckRef: the source ref is not allowed.
	CheckRef = "ref"
	// CheckRequireSignature and friends: a required kind of evidence has no verified item.
	CheckRequireSignature  = "require.signature"
	CheckRequireSBOM       = "require.sbom"
	CheckRequireProvenance = "require.provenance"
	CheckRequireTools      = "require.tools"
)

// Failure is a check that failed for the image as a whole.
type Failure struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

func (f Failure) String() string { return f.Check + ": " + f.Reason }

// Rejection is a candidate signature or attestation that did not verify, and why.
type Rejection struct {
	// Candidate names the candidate: "<source> <manifest digest> layer <layer digest>".
	Candidate string `json:"candidate"`
	Check     string `json:"check"`
	Reason    string `json:"reason"`
}

func (r Rejection) String() string { return r.Candidate + ": " + r.Check + ": " + r.Reason }

// ErrFailed is wrapped by FailedError.
var ErrFailed = errors.New("verification failed")

// FailedError is returned by Result.Err when the image does not pass its policy.
type FailedError struct {
	Failures []Failure
}

func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.String()
	}
	return fmt.Sprintf("%s: %s", ErrFailed, strings.Join(parts, "; "))
}

func (e *FailedError) Unwrap() error { return ErrFailed }
