package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/attest"
)

// Signer is an ephemeral ECDSA P-256 key that signs the way `cosign sign --key` and
// `cosign attest --key` do. It lives only in memory.
type Signer struct{ key *ecdsa.PrivateKey }

// NewSigner makes a fresh key.
func NewSigner() (*Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demo signing key: %w", err)
	}
	return &Signer{key: k}, nil
}

// PublicPEM is the public key, PEM-encoded, as a policy names it.
func (s *Signer) PublicPEM() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

func (s *Signer) sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, s.key, h[:])
}

// dsse signs body into a DSSE envelope (JSON) of payloadType.
func (s *Signer) dsse(payloadType string, body []byte) ([]byte, error) {
	pae := fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(body), body)
	sig, err := s.sign([]byte(pae))
	if err != nil {
		return nil, err
	}
	type signature struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	return json.Marshal(struct {
		PayloadType string      `json:"payloadType"`
		Payload     string      `json:"payload"`
		Signatures  []signature `json:"signatures"`
	}{payloadType, base64.StdEncoding.EncodeToString(body), []signature{{Sig: base64.StdEncoding.EncodeToString(sig)}}})
}

// statement is an in-toto v1 statement about img.
func statement(img Image, predicateType string, predicate []byte) ([]byte, error) {
	type subject struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	return json.Marshal(struct {
		Type          string          `json:"_type"`
		Subject       []subject       `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{"https://in-toto.io/Statement/v1", []subject{{img.repo.Name(), map[string]string{"sha256": strings.TrimPrefix(img.Digest, "sha256:")}}}, predicateType, predicate})
}

// SignAndAttest signs img (cosign's simplesigning payload in the .sig tag) and attests its
// SBOM (SPDX JSON) and tool manifest ({"tools":[…]}) in DSSE envelopes in the .att tag.
func (r *Registry) SignAndAttest(ctx context.Context, s *Signer, img Image, sbom, tools []byte) error {
	payload, err := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": img.repo.Name()},
			"image":    map[string]string{"docker-manifest-digest": img.Digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	if err != nil {
		return err
	}
	sig, err := s.sign(payload)
	if err != nil {
		return err
	}
	if err := putTagged(ctx, img.repo, cosignTag(img.Digest, ".sig"), []layer{{payload, "application/vnd.dev.cosign.simplesigning.v1+json",
		map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)}}}); err != nil {
		return fmt.Errorf("sign %s: %w", img.Ref, err)
	}
	var atts []layer
	for _, p := range []struct {
		typ  string
		body []byte
	}{{attest.PredicateSPDX, sbom}, {attest.PredicateToolManifest, tools}} {
		st, err := statement(img, p.typ, p.body)
		if err != nil {
			return err
		}
		env, err := s.dsse("application/vnd.in-toto+json", st)
		if err != nil {
			return err
		}
		atts = append(atts, layer{env, "application/vnd.dsse.envelope.v1+json", map[string]string{"dev.cosignproject.cosign/signature": ""}})
	}
	if err := putTagged(ctx, img.repo, cosignTag(img.Digest, ".att"), atts); err != nil {
		return fmt.Errorf("attest %s: %w", img.Ref, err)
	}
	return nil
}
