package npm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// ErrKeys is wrapped by every error about a set of npm registry keys.
var ErrKeys = errors.New("bad npm registry keys")

// Key is one of an npm registry's signing keys, in the shape of the registry's
// /-/npm/v1/keys document. A publish attestation verifies only against a configured key
// whose id its bundle names, and only if its transparency-log time lies in the key's window.
type Key struct {
	// KeyID is the registry's id for the key ("SHA256:…"); bundles name it as their hint.
	KeyID string `json:"keyid"`
	// KeyType and Scheme, when given, must be "ecdsa-sha2-nistp256".
	KeyType string `json:"keytype,omitempty"`
	Scheme  string `json:"scheme,omitempty"`
	// Key is the base64 DER SubjectPublicKeyInfo of a P-256 key.
	Key string `json:"key"`
	// ValidFrom (optional) and Expires (null: no end) bound the key's validity window.
	ValidFrom *time.Time `json:"validFrom,omitempty"`
	Expires   *time.Time `json:"expires"`
}

// PublicKey parses and checks the key.
func (k Key) PublicKey() (crypto.PublicKey, error) {
	if k.KeyID == "" {
		return nil, fmt.Errorf("%w: a key has no keyid", ErrKeys)
	}
	for _, t := range []string{k.KeyType, k.Scheme} {
		if t != "" && t != "ecdsa-sha2-nistp256" {
			return nil, fmt.Errorf("%w: key %s: type %q is not ecdsa-sha2-nistp256", ErrKeys, k.KeyID, t)
		}
	}
	der, err := base64.StdEncoding.DecodeString(k.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: not base64: %v", ErrKeys, k.KeyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", ErrKeys, k.KeyID, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: key %s is not an ECDSA P-256 key", ErrKeys, k.KeyID)
	}
	if k.ValidFrom != nil && k.Expires != nil && !k.Expires.After(*k.ValidFrom) {
		return nil, fmt.Errorf("%w: key %s: expires before validFrom", ErrKeys, k.KeyID)
	}
	return pub, nil
}

// ValidateKeys checks every key and that no key id repeats.
func ValidateKeys(keys []Key) error {
	seen := map[string]bool{}
	for _, k := range keys {
		if _, err := k.PublicKey(); err != nil {
			return err
		}
		if seen[k.KeyID] {
			return fmt.Errorf("%w: key id %s appears twice", ErrKeys, k.KeyID)
		}
		seen[k.KeyID] = true
	}
	return nil
}

// ParseKeys parses a registry keys document ({"keys":[…]}, as served at /-/npm/v1/keys)
// strictly and validates it.
func ParseKeys(data []byte) ([]Key, error) {
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%w: larger than 1 MiB", ErrKeys)
	}
	if err := intoto.CheckStrictJSON(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeys, err)
	}
	var doc struct {
		Keys []Key `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeys, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("%w: no \"keys\" list", ErrKeys)
	}
	if err := ValidateKeys(doc.Keys); err != nil {
		return nil, err
	}
	return doc.Keys, nil
}

//go:embed keys.json
var shippedKeys []byte

// DefaultKeys are the public npm registry's signing keys (registry.npmjs.org,
// /-/npm/v1/keys, as of 2026), shipped as configuration: the key that signed publish
// attestations until 2025-01-29, with that expiry, and its successor.
func DefaultKeys() []Key {
	k, err := ParseKeys(shippedKeys)
	if err != nil {
		panic("npm: shipped keys: " + err.Error())
	}
	return k
}
