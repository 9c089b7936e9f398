package trustroottest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Mirror is a one-version TUF repository served by httptest on 127.0.0.1.
type Mirror struct {
	// URL is the repository base URL.
	URL string
	// Root is the TUF root.json to trust (version 1, signed by the mirror's root key).
	Root []byte
	// Dir is the directory served.
	Dir string

	target string
}

// NewMirror writes a one-version TUF repository whose single target, trusted_root.json, is
// trustedRoot, signs it with fresh keys and serves it until the test ends.
func NewMirror(t testing.TB, trustedRoot []byte) *Mirror {
	t.Helper()
	dir := t.TempDir()
	expires := time.Now().Add(24 * time.Hour)
	targets := metadata.Targets(expires)
	tf, err := metadata.TargetFile().FromBytes("trusted_root.json", trustedRoot, "sha256")
	if err != nil {
		t.Fatal(err)
	}
	targets.Signed.Targets["trusted_root.json"] = tf
	snapshot := metadata.Snapshot(expires)
	timestamp := metadata.Timestamp(expires)
	root := metadata.Root(expires)
	signers := map[string]signature.Signer{}
	for _, name := range []string{"root", "targets", "snapshot", "timestamp"} {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		k, err := metadata.KeyFromPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := root.Signed.AddKey(k, name); err != nil {
			t.Fatal(err)
		}
		if signers[name], err = signature.LoadSigner(priv, crypto.Hash(0)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(targets.Sign(signers["targets"]))
	check(snapshot.Sign(signers["snapshot"]))
	check(timestamp.Sign(signers["timestamp"]))
	check(root.Sign(signers["root"]))
	for name, write := range map[string]func(string) error{
		"1.root.json":     func(p string) error { return root.ToFile(p, true) },
		"1.targets.json":  func(p string) error { return targets.ToFile(p, true) },
		"1.snapshot.json": func(p string) error { return snapshot.ToFile(p, true) },
		"targets.json":    func(p string) error { return targets.ToFile(p, true) },
		"snapshot.json":   func(p string) error { return snapshot.ToFile(p, true) },
		"timestamp.json":  func(p string) error { return timestamp.ToFile(p, true) },
	} {
		if err := write(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(trustedRoot)
	m := &Mirror{Dir: dir, target: hex.EncodeToString(sum[:]) + ".trusted_root.json"}
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	m.ServeTarget(t, trustedRoot)
	if m.Root, err = os.ReadFile(filepath.Join(dir, "1.root.json")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// ServeTarget replaces the bytes served for trusted_root.json (under both its plain and its
// hash-prefixed name) without re-signing the metadata: anything but the original bytes is a
// tampered target.
func (m *Mirror) ServeTarget(t testing.TB, data []byte) {
	t.Helper()
	for _, name := range []string{"trusted_root.json", m.target} {
		if err := os.WriteFile(filepath.Join(m.Dir, "targets", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
