package vsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

const (
	// PredicateType is the SLSA verification summary predicate, v1.
	PredicateType = "https://slsa.dev/verification_summary/v1"
	// StatementType is the in-toto statement type, v1.
	StatementType = "https://in-toto.io/Statement/v1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// MaxEnvelope bounds what Verify reads.
	MaxEnvelope = 1 << 20
)

// Errors returned by Verify.
var (
	ErrSignature = errors.New("vsa: signature does not verify")
	ErrMalformed = errors.New("vsa: malformed attestation")
)

// Statement is an in-toto statement v1 carrying a VSA.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is an in-toto resource descriptor reduced to name + digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is the SLSA verification summary v1 predicate.
type Predicate struct {
	Verifier           Verifier          `json:"verifier"`
	TimeVerified       time.Time         `json:"timeVerified"`
	ResourceURI        string            `json:"resourceUri"`
	Policy             Resource          `json:"policy"`
	InputAttestations  []Resource        `json:"inputAttestations,omitempty"`
	VerificationResult string            `json:"verificationResult"`
	VerifiedLevels     []string          `json:"verifiedLevels"`
	DependencyLevels   map[string]uint64 `json:"dependencyLevels,omitempty"`
	SLSAVersion        string            `json:"slsaVersion,omitempty"`
}

// Verifier identifies who verified.
type Verifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Resource is a URI with optional digests.
type Resource struct {
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// DigestSet turns "sha256:<hex>" into {"sha256": "<hex>"}.
func DigestSet(d string) (map[string]string, error) {
	alg, hexPart, ok := strings.Cut(d, ":")
	if !ok || alg != "sha256" || len(hexPart) != 64 {
		return nil, fmt.Errorf("digest %q is not sha256:<64 hex>: %w", d, ErrMalformed)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return nil, fmt.Errorf("digest %q: %w", d, ErrMalformed)
	}
	return map[string]string{"sha256": hexPart}, nil
}

// Signer signs VSAs with one ECDSA P-256 key.
type Signer struct {
	key   *ecdsa.PrivateKey
	keyID string
}

// NewSigner returns a Signer over key.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("vsa: need an ECDSA P-256 key")
	}
	id, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, keyID: id}, nil
}

// KeyID returns the key id used in envelopes: hex sha256 of the PKIX DER public key.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("vsa: key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// KeyID returns the signer's key id.
func (s *Signer) KeyID() string { return s.keyID }

// PublicKeyPEM returns the public key as a PEM "PUBLIC KEY" block (what the registry serves).
func (s *Signer) PublicKeyPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Sign signs st (whose Type and PredicateType it sets) and returns the DSSE envelope JSON.
func (s *Signer) Sign(st Statement) ([]byte, error) {
	st.Type, st.PredicateType = StatementType, PredicateType
	if len(st.Subject) == 0 {
		return nil, fmt.Errorf("vsa: a statement needs at least one subject: %w", ErrMalformed)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("vsa: %w", err)
	}
	h := sha256.Sum256(dsse.PAE(PayloadType, payload))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h[:])
	if err != nil {
		return nil, fmt.Errorf("vsa: sign: %w", err)
	}
	env := dsse.Envelope{
		PayloadType: PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []dsse.Signature{{KeyID: s.keyID, Sig: base64.StdEncoding.EncodeToString(sig)}},
	}
	return json.Marshal(env)
}

// Verify checks a DSSE envelope against pub (an ECDSA public key, or PEM bytes of one) and
// returns its statement. The payload type, the statement type and the predicate type must
// be the VSA's; a signature by any other key fails with ErrSignature.
func Verify(envelope []byte, pub crypto.PublicKey) (*Statement, error) {
	if len(envelope) > MaxEnvelope {
		return nil, fmt.Errorf("envelope larger than %d bytes: %w", MaxEnvelope, ErrMalformed)
	}
	ek, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("vsa: public key is %T, want *ecdsa.PublicKey", pub)
	}
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return nil, fmt.Errorf("envelope: %w: %w", ErrMalformed, err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("payload type %q, want %q: %w", env.PayloadType, PayloadType, ErrMalformed)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %w: %w", ErrMalformed, err)
	}
	h := sha256.Sum256(dsse.PAE(env.PayloadType, payload))
	verified := false
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err == nil && ecdsa.VerifyASN1(ek, h[:], sig) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, ErrSignature
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("statement: %w: %w", ErrMalformed, err)
	}
	if st.Type != StatementType || st.PredicateType != PredicateType {
		return nil, fmt.Errorf("statement %q with predicate %q is not a VSA: %w", st.Type, st.PredicateType, ErrMalformed)
	}
	return &st, nil
}

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" holding an ECDSA key.
func ParsePublicKeyPEM(b []byte) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("vsa: not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("vsa: public key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("vsa: public key is %T, want ECDSA", k)
	}
	return ek, nil
}

// LoadOrCreateKey reads the ECDSA P-256 private key at path (PEM, PKCS#8), creating it with
// mode 0600 when absent. An existing key file readable by group or others is refused.
func LoadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("vsa: generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("vsa: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("vsa: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("vsa: create key: %w", err)
		}
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			f.Close()
			return nil, fmt.Errorf("vsa: write key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("vsa: write key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vsa: read key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("vsa: key file %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("vsa: %s is not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("vsa: %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("vsa: %s holds a %T, want an ECDSA P-256 key", path, k)
	}
	return ek, nil
}

// PublicKeyPEMKey returns the signer's public key.
func (s *Signer) PublicKeyPEMKey() *ecdsa.PublicKey { return &s.key.PublicKey }
