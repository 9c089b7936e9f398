package trustroot

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/trustroot/trustroottest"
)

// TestFetchPublicGoodFromMirror refreshes the trusted root from a TUF mirror (an in-process
// one, signed with test keys) and gets the target it serves.
func TestFetchPublicGoodFromMirror(t *testing.T) {
	m := trustroottest.NewMirror(t, PublicGoodJSON())
	data, tr, err := FetchPublicGoodJSON(FetchOptions{Transport: http.DefaultTransport, MirrorURL: m.URL, Root: m.Root, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, PublicGoodJSON()) {
		t.Error("fetched bytes differ from the served target")
	}
	want, _ := PublicGood()
	if len(tr.RekorLogs()) != len(want.RekorLogs()) || len(tr.FulcioCertificateAuthorities()) != len(want.FulcioCertificateAuthorities()) {
		t.Errorf("fetched root differs from the served target")
	}
	// A mirror signed by other keys is refused.
	other := trustroottest.NewMirror(t, PublicGoodJSON())
	if _, err := FetchPublicGood(FetchOptions{Transport: http.DefaultTransport, MirrorURL: other.URL, Root: m.Root, CacheDir: t.TempDir()}); err == nil {
		t.Error("a mirror signed by untrusted keys was accepted")
	}
	// A target that does not match the signed targets metadata is refused.
	tampered := trustroottest.NewMirror(t, PublicGoodJSON())
	tampered.ServeTarget(t, bytes.Replace(PublicGoodJSON(), []byte("sigstore"), []byte("s1gstore"), 1))
	_, err = FetchPublicGood(FetchOptions{Transport: http.DefaultTransport, MirrorURL: tampered.URL, Root: tampered.Root})
	if err == nil {
		t.Fatal("a tampered target was accepted")
	}
	if !strings.Contains(err.Error(), "trusted_root.json") {
		t.Errorf("error does not name the target: %v", err)
	}
	t.Logf("tampered: %v", err)
}
