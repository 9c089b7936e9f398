package attest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/attest/trustroot"
	"github.com/vetted-dev/vetted/internal/testenv"
)

// TestVerifyCosignLegacyKey covers cosign's legacy layout signed with a key, as `cosign sign
// --key` and `cosign attest --key` write it without a transparency log.
func TestVerifyCosignLegacyKey(t *testing.T) {
	f := newFixture(t, false)
	k := sigtest.NewKey(t)
	d := f.reg.PushImage(t, "acme/weather", "v1")
	payload := sigtest.SimpleSigning(f.reg.Ref("acme/weather", "v1"), d)
	f.reg.AttachSig(t, "acme/weather", d, sigtest.SigLayer(payload, k.Sign(t, payload), nil))
	f.reg.AttachAtt(t, "acme/weather", d,
		sigtest.AttLayer(k.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateSPDX, spdxDoc))),
		sigtest.AttLayer(k.DSSE(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateSLSAv02,
			`{"builder":{"id":"https://example.com/builder@v1"},"buildType":"https://example.com/build@v1","invocation":{"configSource":{"uri":"git+https://github.com/acme/weather@refs/tags/v1.0.0","digest":{"sha1":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"entryPoint":"build.yml"}}}`))),
	)
	pol := strings.Replace(keyPolicy(k.PublicPEM(t), ""), "{signature: true}", "{signature: true, sbom: true, provenance: true}", 1) +
		"builders: [https://example.com/builder@v1]\nrefs: [refs/tags/v*]\nsourceRepository: https://github.com/acme/weather\n"
	res := f.verify(f.reg.Ref("acme/weather", "v1"), pol)
	if !res.Passed {
		t.Fatalf("want pass:\n%s", res.Summary())
	}
	kinds := map[attest.Kind]int{}
	for _, it := range res.Items {
		kinds[it.Kind]++
		if it.Authority != "release-key" || !strings.HasPrefix(it.SignerIdentity, "sha256:") {
			t.Errorf("item %+v", it)
		}
		// The evidence to store: the digest-checked blob and, for .sig, the signature annotation.
		if !strings.HasPrefix(it.BlobDigest, "sha256:") || len(it.Blob) == 0 ||
			(it.Kind == attest.KindSignature && it.Annotations["dev.cosignproject.cosign/signature"] == "") {
			t.Errorf("item %s evidence: %s, %d bytes, %v", it.Kind, it.BlobDigest, len(it.Blob), it.Annotations)
		}
	}
	if kinds[attest.KindSignature] != 1 || kinds[attest.KindSBOM] != 1 || kinds[attest.KindProvenance] != 1 {
		t.Errorf("kinds %v", kinds)
	}
	if p := res.Provenance; p == nil || p.Ref != "refs/tags/v1.0.0" || p.Commit != strings.Repeat("a", 40) || p.SourceRepo != ghRepo {
		t.Errorf("provenance %+v", res.Provenance)
	}

	// The same evidence against a stricter policy: the builder, the ref and the repository
	// are each checked.
	for _, c := range []struct{ extra, check, reason string }{
		{"builders: [https://example.com/other]\n", attest.CheckBuilder, "is not one of"},
		{"refs: [refs/heads/main]\n", attest.CheckRef, `ref "refs/tags/v1.0.0" matches none`},
		{"sourceRepository: https://github.com/acme/other\n", attest.CheckSourceRepository, "is not"},
	} {
		pol := strings.Replace(keyPolicy(k.PublicPEM(t), ""), "{signature: true}", "{provenance: true}", 1) + c.extra
		wantFail(t, f.verify(f.reg.Ref("acme/weather", "v1"), pol), attest.CheckRequireProvenance, "no verified provenance", c.check, c.reason)
	}
}

// TestVerifyKeyWindowWithTimestamp: a key with a validity window verifies when a trusted
// log timestamp inside the window is present.
func TestVerifyKeyValidityWindow(t *testing.T) {
	f := newFixture(t, true)
	k := sigtest.NewKey(t)
	d := f.reg.PushImage(t, "acme/weather", "v1")
	bun := k.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
	f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
	res := f.verify(f.reg.Ref("acme/weather", "v1"), keyPolicy(k.PublicPEM(t), "validFrom: 2020-01-01T00:00:00Z"))
	// No timestamp in the bundle: a validity window makes one mandatory.
	wantFail(t, res, attest.CheckRequireSignature, "timestamp", attest.CheckTimestamp, "")
	// Without a window the current time is used.
	res = f.verify(f.reg.Ref("acme/weather", "v1"), keyPolicy(k.PublicPEM(t), ""))
	if !res.Passed || res.Items[0].Timestamps[0].Type != "CurrentTime" {
		t.Fatalf("want pass at current time:\n%s", res.Summary())
	}
}

// TestVerifyPublicGoodBundle verifies a real public-good Sigstore bundle (DSSE, Rekor
// entry, SCT) with the trusted root shipped in the binary, attached as a referrer to
// go-containerregistry's empty.Image, which is its subject.
func TestVerifyPublicGoodBundle(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedTestdata(t, "sigstore", "oci-attestation.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	reg := sigtest.NewRegistry(t, true, nil)
	d := reg.Push(t, "repo", "latest", empty.Image)
	reg.AttachBundle(t, "repo", d, data, nil)

	realPolicy := func(issuer, subject string) *attest.Policy {
		return mustPolicy(t, "authorities:\n  - name: cody\n    keyless:\n      issuer: "+issuer+"\n      subject: "+subject+"\ntlog: {required: true}\n")
	}
	res, err := attest.Verify(context.Background(), reg.Ref("repo", "latest"), realPolicy("https://github.com/login/oauth", "cody@soyland.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || len(res.Items) != 1 {
		t.Fatalf("want pass:\n%s", res.Summary())
	}
	it := res.Items[0]
	if it.Kind != attest.KindOther || it.SignerIdentity != "cody@soyland.com" || it.Issuer != "https://github.com/login/oauth" ||
		len(it.LogEntries) != 1 || it.LogEntries[0].LogIndex != 175508996 || it.PredicateType != "https://cosign.sigstore.dev/attestation/v1" {
		t.Errorf("item %+v", it)
	}
	// A private root read from a file (here the public-good root, written out).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.json"), trustroot.PublicGoodJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	polFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polFile, []byte("authorities:\n  - name: cody\n    keyless:\n      issuer: https://github.com/login/oauth\n      subject: cody@soyland.com\n      trustedRoot: {path: root.json}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pf, err := attest.ParsePolicyFile(polFile)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := attest.Verify(context.Background(), reg.Ref("repo", "latest"), pf); err != nil || !res.Passed {
		t.Fatalf("private root file: %v\n%s", err, res.Summary())
	}
	// The same real bundle against look-alike identities.
	for _, c := range []struct{ issuer, subject, reason string }{
		{"https://github.com/login/oauth.evil.io", "cody@soyland.com", "issuer"},
		{"https://github.com/login/oauth", "cody@soyland.co", "cody@soyland.com"},
	} {
		res, err := attest.Verify(context.Background(), reg.Ref("repo", "latest"), realPolicy(c.issuer, c.subject))
		if err != nil {
			t.Fatal(err)
		}
		wantFail(t, res, attest.CheckRequireSignature, "nothing verified", attest.CheckIdentity, c.reason)
	}
}

// TestVerifyMessageSignatureBundle: a bundle whose message signature is over the image
// manifest itself is a signature of the image; over another manifest it is rejected.
func TestVerifyMessageSignatureBundle(t *testing.T) {
	f := newFixture(t, true)
	k := sigtest.NewKey(t)
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := f.reg.Push(t, "acme/weather", "v1", img)
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, k.MessageBundle(t, raw)), nil)
	res := f.verify(f.reg.Ref("acme/weather", "v1"), keyPolicy(k.PublicPEM(t), ""))
	if !res.Passed || res.Items[0].Kind != attest.KindSignature || res.Items[0].PredicateType != "" {
		t.Fatalf("want pass:\n%s", res.Summary())
	}
	d2 := f.reg.PushImage(t, "acme/weather", "v2")
	f.reg.AttachBundle(t, "acme/weather", d2, sigtest.Marshal(t, k.MessageBundle(t, raw)), nil)
	wantFail(t, f.verify(f.reg.Ref("acme/weather", "v2"), keyPolicy(k.PublicPEM(t), "")),
		attest.CheckRequireSignature, "", attest.CheckSubject, "message signature is over SHA2_256:")
}
