package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/vetted-dev/vetted/attest/oci"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err   error
		check string
	}{
		{&verify.ErrNoMatchingCertificateIdentity{}, CheckIdentity},
		{errors.New("failed to verify log inclusion: x"), CheckTlog},
		{errors.New("failed to verify timestamps: x"), CheckTimestamp},
		{errors.New("failed to verify leaf certificate: x"), CheckCertificate},
		{errors.New("failed to verify signed certificate timestamp: x"), CheckSCT},
		{errors.New("signature time outside of public key validity window"), CheckKey},
		{errors.New("failed to verify signature: x"), CheckSignature},
		{errors.New("something new"), CheckSignature},
	}
	for _, c := range cases {
		if got := classify(c.err); got.check != c.check {
			t.Errorf("classify(%v) = %s, want %s", c.err, got.check, c.check)
		}
	}
}

const digest = "sha256:5e68d695f05e77737b40a98eb3832be90f22bef534e1009f50b9a4c59d839e8c"

// FuzzPrepare feeds untrusted candidate content (bundle JSON, payloads, cosign annotations)
// through the parsing and binding that happen before any signature check.
func FuzzPrepare(f *testing.F) {
	f.Add("referrer", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), "", "")
	f.Add("sig-tag", []byte(`{"critical":{"image":{"docker-manifest-digest":"`+digest+`"},"type":"cosign container image signature"}}`), "MEUCIQ==", `{"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}`)
	f.Add("att-tag", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`), "", "")
	f.Fuzz(func(t *testing.T, src string, data []byte, sig, rekorBundle string) {
		c := &oci.Candidate{Source: oci.Source(src), Data: data, Annotations: map[string]string{
			annSignature: sig, annBundle: rekorBundle,
		}}
		cand, rej := prepare(c, digest)
		if (cand == nil) == (rej == nil) {
			t.Fatalf("prepare returned %v and %v", cand, rej)
		}
		if rej != nil && rej.check == "" {
			t.Fatal("rejection without a check")
		}
	})
}

// benchFixture is one keyless DSSE bundle (certificate, Rekor entry with inclusion proof and
// promise) bound to an image digest, ready to verify.
func benchFixture(b *testing.B) (*verifier, *oci.Candidate, *bundle.Bundle, root.TrustedMaterial) {
	ss := sigtest.New(b)
	id := sigtest.Identity{SAN: "https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com"}
	pb := ss.KeylessDSSE(b, id, sigtest.Statement(digest, PredicateCosignSign, `{}`))
	data := sigtest.Marshal(b, pb)
	pol, err := policy.Parse([]byte(`
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
require: {signature: true}
tlog: {required: true}
sct: {unsafeSkip: true}
`))
	if err != nil {
		b.Fatal(err)
	}
	tm := ss.TrustedMaterial()
	auths, err := compileAuthorities(pol, tm)
	if err != nil {
		b.Fatal(err)
	}
	var bun bundle.Bundle
	if err := bun.UnmarshalJSON(data); err != nil {
		b.Fatal(err)
	}
	return &verifier{pol: pol, auths: auths, log: nil}, &oci.Candidate{Source: oci.SourceReferrer, Data: data}, &bun, tm
}

// BenchmarkVerifyKeylessBundle is Vetted's whole per-candidate path for one keyless bundle:
// strict parse, statement binding, sigstore-go verification (tlog inclusion proof and SET,
// certificate chain at the log time, identity, DSSE signature) and classification.
func BenchmarkVerifyKeylessBundle(b *testing.B) {
	v, c, _, _ := benchFixture(b)
	v.log = discardLogger()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, rej := prepareAndVerify(v, c, digest); rej != nil {
			b.Fatal(rej)
		}
	}
}

// rawChecks returns a function doing the raw signature checks that verifying the fixture's
// bundle implies: the certificate chain (leaf by intermediate, intermediate by root), the DSSE
// signature by the leaf key, the log's SET, and the inclusion proof with its signed
// checkpoint.
func rawChecks(b *testing.B, bun *bundle.Bundle, tm root.TrustedMaterial) func() {
	vc, err := bun.VerificationContent()
	if err != nil {
		b.Fatal(err)
	}
	leaf := vc.Certificate()
	ca := tm.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	inter, rootCert := ca.Intermediates[0], ca.Root
	sc, _ := bun.SignatureContent()
	env := sc.EnvelopeContent().RawEnvelope()
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	entries, _ := bun.TlogEntries()
	logs := tm.RekorLogs()
	var logKey *ecdsa.PublicKey
	for _, l := range logs {
		logKey = l.PublicKey.(*ecdsa.PublicKey)
	}
	logVerifier, err := signature.LoadECDSAVerifier(logKey, crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	return func() {
		if err := leaf.CheckSignatureFrom(inter); err != nil {
			b.Fatal(err)
		}
		if err := inter.CheckSignatureFrom(rootCert); err != nil {
			b.Fatal(err)
		}
		h := sha256.Sum256(dsse.PAE(env.PayloadType, payload))
		if !ecdsa.VerifyASN1(leaf.PublicKey.(*ecdsa.PublicKey), h[:], sig) {
			b.Fatal("dsse")
		}
		if err := tlog.VerifySET(entries[0], logs); err != nil {
			b.Fatal(err)
		}
		if err := tlog.VerifyInclusion(entries[0], logVerifier); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawSignatureChecks is the raw cost of the signature checks verification implies.
func BenchmarkRawSignatureChecks(b *testing.B) {
	_, _, bun, tm := benchFixture(b)
	raw := rawChecks(b, bun, tm)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		raw()
	}
}

// BenchmarkVerifyToRawRatio alternates the two in one loop, so that both see the same
// machine load, and reports verify-ns/op, raw-ns/op and their ratio.
func BenchmarkVerifyToRawRatio(b *testing.B) {
	v, c, bun, tm := benchFixture(b)
	v.log = discardLogger()
	raw := rawChecks(b, bun, tm)
	var tv, tr time.Duration
	n := 0
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, _, rej := prepareAndVerify(v, c, digest); rej != nil {
			b.Fatal(rej)
		}
		t1 := time.Now()
		raw()
		tr += time.Since(t1)
		tv += t1.Sub(t0)
		n++
	}
	b.ReportMetric(float64(tv.Nanoseconds())/float64(n), "verify-ns/op")
	b.ReportMetric(float64(tr.Nanoseconds())/float64(n), "raw-ns/op")
	b.ReportMetric(float64(tv)/float64(tr), "ratio")
}

// prepareAndVerify is the whole per-candidate path: prepare (parse, bind) and verify.
func prepareAndVerify(v *verifier, c *oci.Candidate, digest string) (*Item, *verifiedEvidence, *rejectErr) {
	cand, rej := prepare(c, digest)
	if rej != nil {
		return nil, nil, rej
	}
	return v.verifyOne(cand)
}
