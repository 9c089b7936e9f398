package attest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// TestVerifyKeyTypes: cosign-style .sig signatures by ECDSA P-256, Ed25519 and RSA keys
// verify against PEM public keys; each fails against another key.
func TestVerifyKeyTypes(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	keys := map[string]crypto.Signer{"ecdsa-p256": ec, "ed25519": ed, "rsa-2048": rs}
	sign := func(k crypto.Signer, msg []byte) []byte {
		if _, ok := k.(ed25519.PrivateKey); ok {
			s, _ := k.Sign(rand.Reader, msg, crypto.Hash(0))
			return s
		}
		h := sha256.Sum256(msg)
		s, err := k.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pemOf := func(k crypto.Signer) string {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, false)
			d := f.reg.PushImage(t, "acme/weather", "v1")
			payload := sigtest.SimpleSigning(f.reg.Ref("acme/weather", "v1"), d)
			f.reg.AttachSig(t, "acme/weather", d, sigtest.SigLayer(payload, sign(k, payload), nil))
			if res := f.verify(f.reg.Ref("acme/weather", "v1"), keyPolicy(pemOf(k), "")); !res.Passed {
				t.Fatalf("want pass:\n%s", res.Summary())
			}
			other := ec
			if name == "ecdsa-p256" {
				other, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			res := f.verify(f.reg.Ref("acme/weather", "v1"), keyPolicy(pemOf(other), ""))
			wantFail(t, res, attest.CheckRequireSignature, "no verified signature", attest.CheckSignature, "")
		})
	}
}
