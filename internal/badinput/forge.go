package badinput

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ForgeKinds are the defects Forge can give a token.
var ForgeKinds = []string{"exp10y", "expired", "nbf-future", "iat-future", "wrong-aud", "wrong-iss", "bad-signature",
	"no-exp", "unknown-kid", "roles-not-a-list", "roles-case-variant", "exp-case-variant", "huge-claims"}

// Forge returns a token like template (a real token of the registry's embedded issuer) with
// one defect, signed with the issuer's key (the PEM file keyPath) unless the defect is the
// signature itself.
func Forge(template, keyPath, kind string) (string, error) {
	parts := strings.Split(template, ".")
	if len(parts) != 3 {
		return "", errors.New("forge: the template is not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("forge: template claims: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", fmt.Errorf("forge: template claims: %w", err)
	}
	key, err := readEd25519(keyPath)
	if err != nil {
		return "", err
	}
	now := time.Now().Unix()
	kid := ""
	switch kind {
	case "exp10y":
		claims["iat"], claims["nbf"], claims["exp"] = now, now, now+10*365*24*3600
	case "expired":
		claims["iat"], claims["nbf"], claims["exp"] = now-7200, now-7200, now-3600
	case "nbf-future":
		claims["nbf"] = now + 3600
	case "iat-future":
		claims["iat"] = now + 86400
	case "wrong-aud":
		claims["aud"] = "https://elsewhere.example"
	case "wrong-iss":
		claims["iss"] = "https://elsewhere.example"
	case "bad-signature":
		key = ed25519.NewKeyFromSeed(make([]byte, 32))
	case "no-exp":
		delete(claims, "exp")
	case "unknown-kid":
		kid = "not-a-key-of-this-registry"
	case "roles-not-a-list":
		claims["vetted_roles"] = map[string]any{"admin": true}
	case "roles-case-variant": // a decoder matching claims case-insensitively would grant admin
		delete(claims, "vetted_roles")
		claims["Vetted_Roles"] = []string{"admin"}
	case "exp-case-variant": // …or honour this expiry instead of refusing a token without one
		delete(claims, "exp")
		claims["Exp"] = now + 3600
	case "huge-claims":
		claims["pad"] = strings.Repeat("x", 20000)
	default:
		return "", fmt.Errorf("forge: unknown kind %q", kind)
	}
	if kid == "" {
		pub := jose.JSONWebKey{Key: key.Public()}
		tp, _ := pub.Thumbprint(crypto.SHA256)
		kid = base64.RawURLEncoding.EncodeToString(tp)
		if kind == "bad-signature" { // the registry's kid, another key's signature
			real, _ := readEd25519(keyPath)
			rp := jose.JSONWebKey{Key: real.Public()}
			tp, _ := rp.Thumbprint(crypto.SHA256)
			kid = base64.RawURLEncoding.EncodeToString(tp)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func readEd25519(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("forge: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("forge: %s is not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("forge: %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("forge: %s is not an Ed25519 key", path)
	}
	return ek, nil
}
