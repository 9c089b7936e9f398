package intoto

// Predicate types Vetted classifies. Classification uses the verified statement's
// predicateType only; annotations on OCI manifests are hints, never evidence.
const (
	PredicateSPDX         = "https://spdx.dev/Document"
	PredicateCycloneDX    = "https://cyclonedx.org/bom"
	PredicateSLSAv02      = "https://slsa.dev/provenance/v0.2"
	PredicateSLSAv1       = "https://slsa.dev/provenance/v1"
	PredicateCosignSign   = "https://sigstore.dev/cosign/sign/v1"
	PredicateToolManifest = "https://vetted.dev/tool-manifest/v1"
)

// Kind is what a verified item proves.
type Kind string

// Kinds of verified items.
const (
	KindSignature  Kind = "signature"
	KindSBOM       Kind = "sbom"
	KindProvenance Kind = "provenance"
	KindTools      Kind = "tools"
	KindOther      Kind = "other"
)

// Classify maps a predicate type to the kind of evidence it is. Unknown types are KindOther,
// which satisfies no requirement.
func Classify(predicateType string) Kind {
	switch predicateType {
	case PredicateSPDX, PredicateCycloneDX:
		return KindSBOM
	case PredicateSLSAv02, PredicateSLSAv1:
		return KindProvenance
	case PredicateCosignSign:
		return KindSignature
	case PredicateToolManifest:
		return KindTools
	}
	return KindOther
}
