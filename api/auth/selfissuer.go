package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// The embedded issuer's claims and limits.
const (
	// RolesClaim lists the roles of a token from the embedded issuer.
	RolesClaim = "vetted_roles"
	// NamespacesClaim lists the namespace patterns it may publish.
	NamespacesClaim = "vetted_namespaces"
	// MaxSelfTokenTTL bounds the lifetime of embedded-issuer tokens: they are short-lived.
	MaxSelfTokenTTL = 24 * time.Hour
	// KeyFile is the embedded issuer's key, relative to the data directory.
	KeyFile = "auth/issuer-ed25519.pem"
)

// SelfIssuer is Vetted's embedded token issuer: an Ed25519 key kept in the data directory.
// Its tokens are verified like any other issuer's (WithStaticIssuer with its public key).
type SelfIssuer struct {
	issuer string
	key    ed25519.PrivateKey
	pub    jose.JSONWebKey
	now    func() time.Time
}

// LoadOrCreateSelfIssuer reads the key from dataDir/KeyFile, creating it (mode 0600, its
// directory 0700) when absent. A key file readable by group or others is refused.
func LoadOrCreateSelfIssuer(dataDir, issuer string) (s *SelfIssuer, created bool, err error) {
	if issuer == "" {
		return nil, false, errors.New("self issuer: issuer identifier is required")
	}
	path := filepath.Join(dataDir, KeyFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("self issuer: %w", err)
	}
	key, created, err := loadOrCreateKey(path)
	if err != nil {
		return nil, false, fmt.Errorf("self issuer: %w", err)
	}
	return newSelfIssuer(issuer, key), created, nil
}

func newSelfIssuer(issuer string, key ed25519.PrivateKey) *SelfIssuer {
	pub := jose.JSONWebKey{Key: key.Public(), Algorithm: string(jose.EdDSA), Use: "sig"}
	tp, _ := pub.Thumbprint(crypto.SHA256) // cannot fail for an Ed25519 key
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &SelfIssuer{issuer: issuer, key: key, pub: pub, now: time.Now}
}

func loadOrCreateKey(path string) (ed25519.PrivateKey, bool, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, false, werr
		}
		return priv, true, nil
	case errors.Is(err, fs.ErrExist):
		k, err := readKey(path)
		return k, false, err
	default:
		return nil, false, err
	}
}

func readKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is accessible by group or others (mode %04o); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return ek, nil
}

// Issuer is the "iss" of the embedded issuer's tokens.
func (s *SelfIssuer) Issuer() string { return s.issuer }

// PublicJWKS is the key set to serve and to verify with.
func (s *SelfIssuer) PublicJWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.pub}}
}

// IssuerConfig is how the verifier maps the embedded issuer's claims: roles and namespaces
// are read from the token, which only this registry's key can sign.
func (s *SelfIssuer) IssuerConfig() IssuerConfig {
	m := map[string]Role{}
	for _, r := range Roles {
		m[string(r)] = r
	}
	return IssuerConfig{Issuer: s.issuer, RolesClaim: RolesClaim, RoleMapping: m, NamespacesClaim: NamespacesClaim}
}

// VerifierOption trusts the embedded issuer in a Verifier.
func (s *SelfIssuer) VerifierOption() VerifierOption {
	return WithStaticIssuer(s.IssuerConfig(), s.pub)
}

// TokenRequest is what `vetted token issue` asks for.
type TokenRequest struct {
	Subject    string
	Audience   string
	Roles      []Role
	Namespaces []string
	TTL        time.Duration
}

// Issue signs a token. Publishers need at least one namespace pattern; TTL must be
// positive and at most MaxSelfTokenTTL.
func (s *SelfIssuer) Issue(req TokenRequest) (token string, expires time.Time, err error) {
	if req.Subject == "" {
		return "", time.Time{}, errors.New("token: subject is required")
	}
	if req.Audience == "" {
		return "", time.Time{}, errors.New("token: audience is required")
	}
	if req.TTL <= 0 || req.TTL > MaxSelfTokenTTL {
		return "", time.Time{}, fmt.Errorf("token: ttl %v: want more than 0 and at most %v", req.TTL, MaxSelfTokenTTL)
	}
	if len(req.Roles) == 0 {
		return "", time.Time{}, errors.New("token: at least one role is required")
	}
	roles := make([]string, 0, len(req.Roles))
	publisher := false
	for _, r := range req.Roles {
		if _, err := ParseRole(string(r)); err != nil {
			return "", time.Time{}, fmt.Errorf("token: %w", err)
		}
		publisher = publisher || r == RolePublisher
		roles = append(roles, string(r))
	}
	for _, n := range req.Namespaces {
		if _, err := ParsePattern(n); err != nil {
			return "", time.Time{}, fmt.Errorf("token: %w", err)
		}
	}
	if publisher && len(req.Namespaces) == 0 {
		return "", time.Time{}, errors.New("token: the publisher role needs at least one --namespace pattern")
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: s.key, KeyID: s.pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	exp := now.Add(req.TTL)
	std := jwt.Claims{
		Issuer:    s.issuer,
		Subject:   req.Subject,
		Audience:  jwt.Audience{req.Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	}
	extra := map[string]any{RolesClaim: roles}
	if len(req.Namespaces) > 0 {
		extra[NamespacesClaim] = req.Namespaces
	}
	tok, err := jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}
