package trustroot

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

// tufMirror writes a one-version TUF repository whose single target is trustedRoot, signed
// by fresh keys, and serves it. It returns the mirror URL and the root.json to trust.
func tufMirror(t *testing.T, trustedRoot []byte) (string, []byte) {
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
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"trusted_root.json", hex.EncodeToString(sum[:]) + ".trusted_root.json"} {
		if err := os.WriteFile(filepath.Join(dir, "targets", name), trustedRoot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rootJSON, err := os.ReadFile(filepath.Join(dir, "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL, rootJSON
}

// TestFetchPublicGoodFromMirror refreshes the trusted root from a TUF mirror (an in-process
// one, signed with test keys) and gets the target it serves.
func TestFetchPublicGoodFromMirror(t *testing.T) {
	url, rootJSON := tufMirror(t, PublicGoodJSON())
	tr, err := FetchPublicGood(FetchOptions{Transport: http.DefaultTransport, MirrorURL: url, Root: rootJSON, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := PublicGood()
	if len(tr.RekorLogs()) != len(want.RekorLogs()) || len(tr.FulcioCertificateAuthorities()) != len(want.FulcioCertificateAuthorities()) {
		t.Errorf("fetched root differs from the served target")
	}
	// A mirror signed by other keys is refused.
	otherURL, _ := tufMirror(t, PublicGoodJSON())
	if _, err := FetchPublicGood(FetchOptions{Transport: http.DefaultTransport, MirrorURL: otherURL, Root: rootJSON, CacheDir: t.TempDir()}); err == nil {
		t.Error("a mirror signed by untrusted keys was accepted")
	}
}
