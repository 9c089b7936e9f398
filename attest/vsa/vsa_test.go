package vsa

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var dg = "sha256:" + strings.Repeat("ab", 32)

func statement(t *testing.T) Statement {
	t.Helper()
	ds, err := DigestSet(dg)
	if err != nil {
		t.Fatal(err)
	}
	return Statement{
		Subject: []Subject{{Name: "ghcr.io/acme/weather", Digest: ds}},
		Predicate: Predicate{Verifier: Verifier{ID: "https://vetted.example/registry"}, TimeVerified: time.Unix(0, 0).UTC(),
			ResourceURI: "mcp:io.github.acme/weather@1.0.0", Policy: Resource{URI: "vetted:namespace/io.github.acme"},
			VerificationResult: "PASSED", VerifiedLevels: []string{"SLSA_BUILD_LEVEL_2"}, SLSAVersion: "1.0"},
	}
}

func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadOrCreateKey(filepath.Join(dir, "keys", "vsa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "keys", "vsa.pem"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode().Perm())
	}
	again, err := LoadOrCreateKey(filepath.Join(dir, "keys", "vsa.pem"))
	if err != nil || !again.Equal(key) {
		t.Fatalf("reload: %v", err)
	}
	s, _ := NewSigner(key)
	env, err := s.Sign(statement(t))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(s.PublicKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	st, err := Verify(env, pub)
	if err != nil {
		t.Fatal(err)
	}
	if st.PredicateType != PredicateType || st.Type != StatementType || st.Subject[0].Digest["sha256"] != strings.Repeat("ab", 32) ||
		st.Predicate.VerificationResult != "PASSED" {
		t.Fatalf("%+v", st)
	}
	var e struct {
		Signatures []struct{ KeyID string } `json:"signatures"`
	}
	json.Unmarshal(env, &e)
	if e.Signatures[0].KeyID != s.KeyID() || len(s.KeyID()) != 64 {
		t.Fatalf("keyid %+v", e)
	}
}

func TestVerifyRejects(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := NewSigner(key)
	good, _ := s.Sign(statement(t))
	mutate := func(f func(map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	payload := func(p string) []byte {
		return mutate(func(m map[string]any) { m["payload"] = base64.StdEncoding.EncodeToString([]byte(p)) })
	}
	// A correctly signed statement that is not a VSA.
	notVSA := func() []byte {
		st := statement(t)
		raw, _ := json.Marshal(st)
		raw = []byte(strings.Replace(string(raw), `"predicateType":""`, `"predicateType":"https://slsa.dev/provenance/v1"`, 1))
		var m map[string]any
		json.Unmarshal(raw, &m)
		m["_type"] = StatementType
		raw, _ = json.Marshal(m)
		return signRaw(t, key, raw)
	}()
	for _, tc := range []struct {
		name string
		env  []byte
		pub  any
		want error
		msg  string
	}{
		{"other key", good, &other.PublicKey, ErrSignature, "does not verify"},
		{"payload swapped", payload(`{"_type":"x"}`), &key.PublicKey, ErrSignature, "does not verify"},
		{"payload type changed", mutate(func(m map[string]any) { m["payloadType"] = "text/plain" }), &key.PublicKey, ErrMalformed, "payload type"},
		{"not json", []byte("{"), &key.PublicKey, ErrMalformed, "envelope"},
		{"no signatures", mutate(func(m map[string]any) { m["signatures"] = []any{} }), &key.PublicKey, ErrSignature, "does not verify"},
		{"not a VSA", notVSA, &key.PublicKey, ErrMalformed, "is not a VSA"},
		{"huge", make([]byte, MaxEnvelope+1), &key.PublicKey, ErrMalformed, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.env, tc.pub)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v (%s)", err, tc.want, tc.msg)
			}
		})
	}
	if _, err := s.Sign(Statement{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("no subject: %v", err)
	}
}

func TestLoadKeyRefusesLooseMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.pem")
	if _, err := LoadOrCreateKey(p); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if _, err := LoadOrCreateKey(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("got %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := NewSigner(key)
	ds, _ := DigestSet(dg)
	good, _ := s.Sign(Statement{Subject: []Subject{{Name: "x", Digest: ds}}})
	f.Add(good)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Verify(b, &key.PublicKey)
		if err == nil && st.PredicateType != PredicateType {
			t.Fatal("accepted a non-VSA")
		}
	})
}

func signRaw(t *testing.T, key *ecdsa.PrivateKey, payload []byte) []byte {
	t.Helper()
	s, _ := NewSigner(key)
	// Sign a statement, then swap in payload re-signed by hand.
	h := sha256Sum(dssePAE(payload))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"payloadType": PayloadType, "payload": base64.StdEncoding.EncodeToString(payload),
		"signatures": []map[string]string{{"keyid": s.KeyID(), "sig": base64.StdEncoding.EncodeToString(sig)}}})
	return b
}
