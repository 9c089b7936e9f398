package registry

import (
	"fmt"

	"github.com/vetted-dev/vetted/attest/vsa"
)

// VSAKeySigner signs verification summaries with the registry's own key (attest/vsa).
type VSAKeySigner struct {
	signer     *vsa.Signer
	verifierID string
	version    string
}

// NewVSAKeySigner returns a VSASigner. verifierID identifies this registry in the predicate
// (e.g. its public URL); version is the vetted build.
func NewVSAKeySigner(s *vsa.Signer, verifierID, version string) *VSAKeySigner {
	return &VSAKeySigner{signer: s, verifierID: verifierID, version: version}
}

// SignVSA implements VSASigner.
func (k *VSAKeySigner) SignVSA(s VerificationSummary) ([]byte, error) {
	st := vsa.Statement{Predicate: vsa.Predicate{
		Verifier:           vsa.Verifier{ID: k.verifierID, Version: map[string]string{"vetted": k.version}},
		TimeVerified:       s.Time.UTC(),
		ResourceURI:        "mcp:" + s.ServerName + "@" + s.Version,
		Policy:             vsa.Resource{URI: s.Policy},
		VerificationResult: s.Result,
		VerifiedLevels:     s.Levels,
		SLSAVersion:        "1.0",
	}}
	for _, sub := range s.Subjects {
		ds, err := vsa.DigestSet(sub.Digest)
		if err != nil {
			return nil, fmt.Errorf("subject %s: %w", sub.Name, err)
		}
		st.Subject = append(st.Subject, vsa.Subject{Name: sub.Name, Digest: ds})
	}
	for _, in := range s.Inputs {
		ds, err := vsa.DigestSet(in.Digest)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in.Name, err)
		}
		st.Predicate.InputAttestations = append(st.Predicate.InputAttestations, vsa.Resource{URI: "vetted:evidence/" + in.Name, Digest: ds})
	}
	return k.signer.Sign(st)
}
