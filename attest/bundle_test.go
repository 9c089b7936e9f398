package attest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// A publisher's bundle over a document that is not in a registry: keyless DSSE statements
// and key-signed message signatures, bound to one of the digests, by an allowed authority.
func TestVerifyBundle(t *testing.T) {
	ss := sigtest.New(t)
	doc := []byte(`{"name":"io.github.acme/weather","version":"1.0.0"}`)
	digest := sha(doc)
	tm := attest.WithTrustedMaterial(ss.TrustedMaterial())
	pol := mustPolicy(t, keylessPolicy+"signers: {serverJSON: [ci]}\n")

	keyless := sigtest.Marshal(t, ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(digest, "https://vetted.dev/server-json/v1", `{}`)))
	item, err := verifier(t, pol, tm).VerifyBundle(keyless, []string{"sha256:" + strings.Repeat("0", 64), digest}, "serverJSON")
	if err != nil {
		t.Fatalf("keyless: %v", err)
	}
	if item.SignerIdentity != ghWorkflow || item.Issuer != ghIssuer || item.SubjectDigest != digest || item.Kind != "serverJSON" ||
		len(item.LogEntries) != 1 || len(item.Blob) == 0 {
		t.Errorf("keyless item %+v", item)
	}

	key := sigtest.NewKey(t)
	keyPol := mustPolicy(t, "authorities:\n  - name: release\n    key:\n      pem: |\n        "+
		strings.ReplaceAll(strings.TrimSpace(key.PublicPEM(t)), "\n", "\n        ")+"\nrequire: {serverJSON: true}\n")
	msg := sigtest.Marshal(t, key.MessageBundle(t, doc))
	if item, err := verifier(t, keyPol).VerifyBundle(msg, []string{digest}, "serverJSON"); err != nil || item.Authority != "release" {
		t.Fatalf("key message signature: %+v %v", item, err)
	}

	other := sigtest.NewKey(t)
	wrongID := ghIdentity()
	wrongID.SAN = "https://github.com/evil/x/.github/workflows/x.yml@refs/heads/main"
	for name, c := range map[string]struct {
		bundle []byte
		pol    *attest.Policy
		check  string
	}{
		"another document":    {sigtest.Marshal(t, key.MessageBundle(t, []byte(`{"other":1}`))), keyPol, attest.CheckSubject},
		"another key":         {sigtest.Marshal(t, other.MessageBundle(t, doc)), keyPol, attest.CheckSignature},
		"another identity":    {sigtest.Marshal(t, ss.KeylessDSSE(t, wrongID, sigtest.Statement(digest, "x", `{}`))), pol, attest.CheckIdentity},
		"statement elsewhere": {sigtest.Marshal(t, ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(sha([]byte("x")), "x", `{}`))), pol, attest.CheckSubject},
		"key where keyless":   {msg, pol, attest.CheckAuthority},
		"not a bundle":        {[]byte(`{"mediaType":"nope"}`), pol, attest.CheckBundle},
		"signer not allowed": {keyless, mustPolicy(t, strings.Replace(keylessPolicy, "authorities:\n", "authorities:\n  - name: other\n    key:\n      pem: |\n        "+
			strings.ReplaceAll(strings.TrimSpace(other.PublicPEM(t)), "\n", "\n        ")+"\n", 1)+"signers: {serverJSON: [other]}\n"), attest.CheckAuthority},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verifier(t, c.pol, tm).VerifyBundle(c.bundle, []string{digest}, "serverJSON")
			var fe *attest.FailedError
			if !errors.As(err, &fe) || len(fe.Failures) != 1 || fe.Failures[0].Check != c.check {
				t.Fatalf("error %v, want failed check %q", err, c.check)
			}
		})
	}
}

func verifier(t *testing.T, pol *attest.Policy, opts ...attest.Option) *attest.Verifier {
	t.Helper()
	v, err := attest.NewVerifier(pol, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
