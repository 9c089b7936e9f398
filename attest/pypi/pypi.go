package pypi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// Bounds on what is read.
const (
	// MaxDocument bounds an attestation or provenance document.
	MaxDocument = 4 << 20
	// MaxBundles bounds the attestation bundles (publishers) of a provenance object.
	MaxBundles = 8
	// MaxAttestations bounds the attestations of one bundle.
	MaxAttestations = 8
	// MaxEntries bounds the transparency entries of one attestation.
	MaxEntries = 4
)

// Predicate types PyPI attestations carry.
const (
	// PredicatePublish is PyPI's publish attestation: the Trusted Publisher signed this
	// file at upload. Its predicate is null.
	PredicatePublish = "https://docs.pypi.org/attestations/publish/v1"
)

// ErrMalformed is wrapped by every error about a document's shape.
var ErrMalformed = errors.New("pypi: malformed document")

// Attestation is one PEP 740 attestation.
type Attestation struct {
	Version              int                  `json:"version"`
	VerificationMaterial VerificationMaterial `json:"verification_material"`
	Envelope             Envelope             `json:"envelope"`
}

// VerificationMaterial is the signing certificate (base64 DER) and the Rekor entries
// (Sigstore's TransparencyLogEntry in protobuf JSON, kept raw).
type VerificationMaterial struct {
	Certificate         string            `json:"certificate"`
	TransparencyEntries []json.RawMessage `json:"transparency_entries"`
}

// Envelope is the DSSE envelope without its payload type (always in-toto): the statement
// and the signature, both base64.
type Envelope struct {
	Statement string `json:"statement"`
	Signature string `json:"signature"`
}

// Publisher is the Trusted Publisher PyPI recorded for a bundle of attestations.
type Publisher struct {
	Kind       string `json:"kind"`
	Repository string `json:"repository"`
	// Workflow is GitHub's workflow file name ("release.yml").
	Workflow string `json:"workflow,omitempty"`
	// WorkflowFilepath is GitLab's CI file path (".gitlab-ci.yml").
	WorkflowFilepath string  `json:"workflow_filepath,omitempty"`
	Environment      *string `json:"environment"`
}

// Bundle is one publisher's attestations in a provenance object.
type Bundle struct {
	Publisher    Publisher     `json:"publisher"`
	Attestations []Attestation `json:"attestations"`
}

// Provenance is the provenance object of PyPI's Integrity API.
type Provenance struct {
	Version            int      `json:"version"`
	AttestationBundles []Bundle `json:"attestation_bundles"`
}

func decodeStrict(data []byte, v any) error {
	if len(data) > MaxDocument {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), MaxDocument)
	}
	if err := intoto.CheckStrictJSON(data); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the document", ErrMalformed)
	}
	return nil
}

func (a *Attestation) check() error {
	if a.Version != 1 {
		return fmt.Errorf("%w: attestation version %d, want 1", ErrMalformed, a.Version)
	}
	if a.VerificationMaterial.Certificate == "" {
		return fmt.Errorf("%w: verification_material.certificate is missing", ErrMalformed)
	}
	if n := len(a.VerificationMaterial.TransparencyEntries); n == 0 || n > MaxEntries {
		return fmt.Errorf("%w: %d transparency_entries, want 1 to %d", ErrMalformed, n, MaxEntries)
	}
	if a.Envelope.Statement == "" || a.Envelope.Signature == "" {
		return fmt.Errorf("%w: envelope.statement and envelope.signature are required", ErrMalformed)
	}
	for what, s := range map[string]string{"certificate": a.VerificationMaterial.Certificate,
		"statement": a.Envelope.Statement, "signature": a.Envelope.Signature} {
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return fmt.Errorf("%w: %s is not base64: %w", ErrMalformed, what, err)
		}
	}
	return nil
}

// ParseAttestation reads one PEP 740 attestation strictly.
func ParseAttestation(data []byte) (*Attestation, error) {
	var a Attestation
	if err := decodeStrict(data, &a); err != nil {
		return nil, err
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	return &a, nil
}

// ParseProvenance reads a provenance object strictly: version 1, 1 to MaxBundles bundles of
// 1 to MaxAttestations attestations, each publisher of a known kind with its repository.
func ParseProvenance(data []byte) (*Provenance, error) {
	var p Provenance
	if err := decodeStrict(data, &p); err != nil {
		return nil, err
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("%w: provenance version %d, want 1", ErrMalformed, p.Version)
	}
	if n := len(p.AttestationBundles); n == 0 || n > MaxBundles {
		return nil, fmt.Errorf("%w: %d attestation_bundles, want 1 to %d", ErrMalformed, n, MaxBundles)
	}
	for i, b := range p.AttestationBundles {
		if n := len(b.Attestations); n == 0 || n > MaxAttestations {
			return nil, fmt.Errorf("%w: attestation_bundles[%d]: %d attestations, want 1 to %d", ErrMalformed, i, n, MaxAttestations)
		}
		if b.Publisher.Repository == "" {
			return nil, fmt.Errorf("%w: attestation_bundles[%d].publisher.repository is missing", ErrMalformed, i)
		}
		switch b.Publisher.Kind {
		case "GitHub", "GitLab":
		default:
			return nil, fmt.Errorf("%w: attestation_bundles[%d].publisher.kind %q is not GitHub or GitLab", ErrMalformed, i, b.Publisher.Kind)
		}
		for j := range b.Attestations {
			if err := b.Attestations[j].check(); err != nil {
				return nil, fmt.Errorf("attestation_bundles[%d].attestations[%d]: %w", i, j, err)
			}
		}
	}
	return &p, nil
}

type sigstoreBundle struct {
	MediaType            string         `json:"mediaType"`
	VerificationMaterial bundleMaterial `json:"verificationMaterial"`
	DSSEEnvelope         bundleEnvelope `json:"dsseEnvelope"`
}

type bundleMaterial struct {
	Certificate struct {
		RawBytes string `json:"rawBytes"`
	} `json:"certificate"`
	TlogEntries []json.RawMessage `json:"tlogEntries"`
}

type bundleEnvelope struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
	Signatures  []struct {
		Sig string `json:"sig"`
	} `json:"signatures"`
}

// BundleMediaType is the Sigstore bundle version a PEP 740 attestation converts to.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// ToBundle converts the attestation to a Sigstore bundle (JSON): the certificate, the log
// entries as they are, and a DSSE envelope with the in-toto payload type.
func (a *Attestation) ToBundle() ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	var b sigstoreBundle
	b.MediaType = BundleMediaType
	b.VerificationMaterial.Certificate.RawBytes = a.VerificationMaterial.Certificate
	b.VerificationMaterial.TlogEntries = a.VerificationMaterial.TransparencyEntries
	b.DSSEEnvelope.Payload, b.DSSEEnvelope.PayloadType = a.Envelope.Statement, intoto.PayloadType
	b.DSSEEnvelope.Signatures = []struct {
		Sig string `json:"sig"`
	}{{Sig: a.Envelope.Signature}}
	return json.Marshal(b)
}

var normRe = regexp.MustCompile(`[-_.]+`)

// Normalize is PEP 503 name normalization: lower case, runs of "-", "_", "." become "-".
func Normalize(name string) string { return normRe.ReplaceAllString(strings.ToLower(name), "-") }

// SameProject reports whether two project names are the same after PEP 503 normalization.
func SameProject(a, b string) bool { return Normalize(a) == Normalize(b) }

var validName = regexp.MustCompile(`^(?i)[A-Z0-9]([A-Z0-9._-]{0,198}[A-Z0-9])?$`)

// ErrSpec is wrapped by errors about a project name, version or file name (usage errors).
var ErrSpec = errors.New("pypi: invalid name or version")

// ValidateName checks a project name (PEP 508 name syntax).
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: project name %q", ErrSpec, name)
	}
	return nil
}

// ValidateVersion checks a version is exact (no specifiers, no wildcards, no spaces).
func ValidateVersion(v string) error {
	if v == "" || len(v) > 128 || strings.ContainsAny(v, "*<>=!~,; \t\n/\\") {
		return fmt.Errorf("%w: version %q is not an exact version", ErrSpec, v)
	}
	return nil
}

// FileProject returns the project name and version a distribution's file name carries:
// NAME-VERSION-….whl (wheel) or NAME-VERSION.tar.gz / .zip (sdist). Project names in file
// names are normalized with "_" (PEP 427/625), so compare them with SameProject.
func FileProject(filename string) (name, version string, err error) {
	if strings.ContainsAny(filename, "/\\") || len(filename) > 255 {
		return "", "", fmt.Errorf("%w: file name %q", ErrSpec, filename)
	}
	switch {
	case strings.HasSuffix(filename, ".whl"):
		parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
		if len(parts) != 5 && len(parts) != 6 {
			return "", "", fmt.Errorf("%w: wheel file name %q is not NAME-VERSION-[BUILD-]PY-ABI-PLATFORM.whl", ErrSpec, filename)
		}
		name, version = parts[0], parts[1]
	case strings.HasSuffix(filename, ".tar.gz"), strings.HasSuffix(filename, ".zip"):
		base := strings.TrimSuffix(strings.TrimSuffix(filename, ".tar.gz"), ".zip")
		i := strings.LastIndex(base, "-")
		if i <= 0 {
			return "", "", fmt.Errorf("%w: sdist file name %q is not NAME-VERSION.tar.gz", ErrSpec, filename)
		}
		name, version = base[:i], base[i+1:]
	default:
		return "", "", fmt.Errorf("%w: %q is neither a wheel nor an sdist", ErrSpec, filename)
	}
	if ValidateName(name) != nil || ValidateVersion(version) != nil {
		return "", "", fmt.Errorf("%w: file name %q", ErrSpec, filename)
	}
	return name, version, nil
}
