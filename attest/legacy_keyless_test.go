package attest_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// TestVerifyCosignLegacyKeyless covers cosign's classic keyless .sig layout: the Fulcio
// certificate, the Rekor bundle (SET) and the signature in layer annotations, over a
// simplesigning payload. The signature, certificate and log entry come from sigstore-go's
// virtual Sigstore.
func TestVerifyCosignLegacyKeyless(t *testing.T) {
	f := newFixture(t, false)
	vs := f.ss.VS
	d := f.reg.PushImage(t, "acme/weather", "v1")
	layer := func(digest string) sigtest.Layer {
		payload := sigtest.SimpleSigning(f.reg.Ref("acme/weather", "v1"), digest)
		ent, err := vs.Sign("release@acme.example", "https://accounts.example.com", payload)
		if err != nil {
			t.Fatal(err)
		}
		vc, _ := ent.VerificationContent()
		certPEM, err := cryptoutils.MarshalCertificateToPEM(vc.Certificate())
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := ent.SignatureContent()
		entries, _ := ent.TlogEntries()
		e := entries[0]
		logID := hex.EncodeToString([]byte(e.LogKeyID()))
		set, err := vs.RekorSignPayload(tlog.RekorPayload{Body: e.Body(), IntegratedTime: e.IntegratedTime().Unix(), LogIndex: e.LogIndex(), LogID: logID})
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := json.Marshal(map[string]any{
			"SignedEntryTimestamp": base64.StdEncoding.EncodeToString(set),
			"Payload":              map[string]any{"body": e.Body(), "integratedTime": e.IntegratedTime().Unix(), "logIndex": e.LogIndex(), "logID": logID},
		})
		return sigtest.SigLayer(payload, sc.Signature(), map[string]string{
			"dev.sigstore.cosign/certificate": string(certPEM),
			"dev.sigstore.cosign/bundle":      string(rb),
		})
	}
	f.reg.AttachSig(t, "acme/weather", d, layer(d))
	pol := func(subject string) string {
		return "authorities:\n  - name: ci\n    keyless: {issuer: https://accounts.example.com, subject: " + subject + "}\nrequire: {signature: true}\ntlog: {required: true}\nsct: {unsafeSkip: true}\n"
	}
	res := f.verify(f.reg.Ref("acme/weather", "v1"), pol("release@acme.example"), attest.WithTrustedMaterial(vs))
	if !res.Passed {
		t.Fatalf("want pass:\n%s", res.Summary())
	}
	it := res.Items[0]
	if it.Kind != attest.KindSignature || it.SignerIdentity != "release@acme.example" || it.Issuer != "https://accounts.example.com" || len(it.LogEntries) != 1 {
		t.Errorf("item %+v", it)
	}
	wantFail(t, f.verify(f.reg.Ref("acme/weather", "v1"), pol("release@acme.example.evil"), attest.WithTrustedMaterial(vs)),
		attest.CheckRequireSignature, "", attest.CheckIdentity, "release@acme.example")

	// The Rekor bundle of another signature, spliced in: the log entry does not match.
	other := layer(d)
	spliced := layer(d)
	spliced.Annotations["dev.sigstore.cosign/bundle"] = other.Annotations["dev.sigstore.cosign/bundle"]
	f.reg.AttachSig(t, "acme/weather", d, spliced)
	res = f.verify(f.reg.Ref("acme/weather", "v1"), pol("release@acme.example"), attest.WithTrustedMaterial(vs))
	wantFail(t, res, attest.CheckRequireSignature, "", attest.CheckTlog, "does not match")
	if !strings.Contains(res.Summary(), "rejected sig-tag") {
		t.Error(res.Summary())
	}
}
