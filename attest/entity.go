package attest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/vetted-dev/vetted/attest/intoto"
	"github.com/vetted-dev/vetted/attest/oci"
)

// cosign's legacy annotations on .sig/.att layers.
const (
	annSignature   = "dev.cosignproject.cosign/signature"
	annCertificate = "dev.sigstore.cosign/certificate"
	annChain       = "dev.sigstore.cosign/chain"
	annBundle      = "dev.sigstore.cosign/bundle"
	annTimestamp   = "dev.sigstore.cosign/rfc3161timestamp"
)

// candidate is a discovered item made verifiable, with everything pre-checked that can be
// checked without trusting it.
type candidate struct {
	name      string
	entity    verify.SignedEntity
	kind      intoto.Kind
	statement *intoto.Statement // DSSE only
	simple    *intoto.SimpleSigning
	cert      bool // signed with a certificate (keyless), else a key
	entries   []*tlog.Entry
	// keyHint is a key-signed bundle's key hint (npm: the registry key id).
	keyHint string
	// bound is the artifact digest ("alg:hex") the candidate was bound to.
	bound string
	// artifact returns a fresh artifact policy for each verification attempt.
	artifact func() verify.ArtifactPolicyOption
}

type rejectErr struct {
	check  string
	reason string
}

func (e *rejectErr) Error() string { return e.check + ": " + e.reason }

func reject(check, format string, a ...any) *rejectErr {
	return &rejectErr{check: check, reason: fmt.Sprintf(format, a...)}
}

func candidateName(c *oci.Candidate) string {
	return fmt.Sprintf("%s %s layer %s", c.Source, c.Manifest, c.Layer)
}

// binding is what a candidate must be bound to: one of the artifact's digests and, for
// evidence that names its subject (npm's attestations), the subject's name.
type binding struct {
	// digests maps an in-toto digest algorithm ("sha256", "sha512") to the raw digest.
	digests map[string][]byte
	// name, when set, must be a subject's name for that subject's digest to count.
	name func(string) bool
	// wantName describes the required name in rejections.
	wantName string
	// what names the artifact in rejections ("the image sha256:…").
	what string
}

func imageBinding(imageDigest string) (*binding, *rejectErr) {
	digestBytes, err := hex.DecodeString(strings.TrimPrefix(imageDigest, "sha256:"))
	if err != nil || len(digestBytes) != sha256.Size || !strings.HasPrefix(imageDigest, "sha256:") {
		return nil, reject(CheckSubject, "image digest %q is not sha256", imageDigest)
	}
	return &binding{digests: map[string][]byte{"sha256": digestBytes}, what: "the image " + imageDigest}, nil
}

// matchDigest returns "alg:hex" and the raw digest when d (alg → hex) carries one of the
// bound digests.
func (b *binding) matchDigest(d map[string]string) (string, string, []byte) {
	for _, alg := range []string{"sha512", "sha256"} {
		want, ok := b.digests[alg]
		if !ok {
			continue
		}
		if v, ok := d[alg]; ok && strings.EqualFold(v, hex.EncodeToString(want)) {
			return alg, alg + ":" + hex.EncodeToString(want), want
		}
	}
	return "", "", nil
}

// prepare turns a discovered candidate into a verifiable entity bound to imageDigest.
func prepare(c *oci.Candidate, imageDigest string) (*candidate, *rejectErr) {
	b, rej := imageBinding(imageDigest)
	if rej != nil {
		return nil, rej
	}
	switch c.Source {
	case oci.SourceReferrer:
		return prepareBundle(candidateName(c), c.Data, b)
	case oci.SourceSigTag:
		cand := &candidate{name: candidateName(c), bound: imageDigest}
		sig, rej := legacySignature(c)
		if rej != nil {
			return nil, rej
		}
		simple, err := intoto.ParseSimpleSigning(c.Data)
		if err != nil {
			return nil, reject(CheckStatement, "%v", err)
		}
		if simple.Critical.Image.DockerManifestDigest != imageDigest {
			return nil, reject(CheckSubject, "simplesigning payload signs %s, not the image %s", simple.Critical.Image.DockerManifestDigest, imageDigest)
		}
		sum := sha256.Sum256(c.Data)
		ent, rej := legacyEntity(c, bundle.NewMessageSignature(sum[:], "SHA2_256", sig))
		if rej != nil {
			return nil, rej
		}
		payload := c.Data
		cand.entity, cand.simple, cand.kind = ent, simple, intoto.KindSignature
		cand.cert, cand.entries = ent.cert != nil, ent.entries
		cand.artifact = func() verify.ArtifactPolicyOption { return verify.WithArtifact(bytes.NewReader(payload)) }
		return cand, nil
	case oci.SourceAttTag:
		cand := &candidate{name: candidateName(c)}
		if err := intoto.CheckStrictJSON(c.Data); err != nil {
			return nil, reject(CheckBundle, "DSSE envelope: %v", err)
		}
		var env dsse.Envelope
		if err := json.Unmarshal(c.Data, &env); err != nil {
			return nil, reject(CheckBundle, "DSSE envelope: %v", err)
		}
		if len(env.Signatures) != 1 {
			return nil, reject(CheckBundle, "DSSE envelope has %d signatures, want exactly 1", len(env.Signatures))
		}
		ent, rej := legacyEntity(c, &bundle.Envelope{Envelope: &env})
		if rej != nil {
			return nil, rej
		}
		cand.entity, cand.cert, cand.entries = ent, ent.cert != nil, ent.entries
		if rej := cand.bindStatement(&env, b); rej != nil {
			return nil, rej
		}
		return cand, nil
	}
	return nil, reject(CheckBundle, "unknown source %q", c.Source)
}

// prepareBundle turns a Sigstore bundle (from OCI referrers, an npm attestations document or
// a publisher) into a verifiable entity bound to the artifact: a DSSE statement whose
// subject carries one of its digests (and name, when required), or a message signature over
// one of its digests.
func prepareBundle(name string, data []byte, b *binding) (*candidate, *rejectErr) {
	cand := &candidate{name: name}
	if err := intoto.CheckStrictJSON(data); err != nil {
		return nil, reject(CheckBundle, "%v", err)
	}
	var bu bundle.Bundle
	if err := bu.UnmarshalJSON(data); err != nil {
		return nil, reject(CheckBundle, "not a valid sigstore bundle: %v", err)
	}
	vc, err := bu.VerificationContent()
	if err != nil {
		return nil, reject(CheckBundle, "%v", err)
	}
	if cand.entries, err = bu.TlogEntries(); err != nil {
		return nil, reject(CheckBundle, "%v", err)
	}
	// The log entries are parsed once, here, not again on every verification attempt.
	cand.entity, cand.cert = &parsedBundle{Bundle: &bu, entries: cand.entries}, vc.Certificate() != nil
	if pk := vc.PublicKey(); pk != nil {
		cand.keyHint = pk.Hint()
	}
	sc, err := bu.SignatureContent()
	if err != nil {
		return nil, reject(CheckBundle, "%v", err)
	}
	if env := sc.EnvelopeContent(); env != nil {
		if rej := cand.bindStatement(env.RawEnvelope(), b); rej != nil {
			return nil, rej
		}
		return cand, nil
	}
	ms := sc.MessageSignatureContent()
	if ms == nil {
		return nil, reject(CheckBundle, "bundle has neither a DSSE envelope nor a message signature")
	}
	alg := map[string]string{"SHA2_256": "sha256", "SHA2_512": "sha512"}[ms.DigestAlgorithm()]
	want, ok := b.digests[alg]
	if !ok || !bytes.Equal(ms.Digest(), want) {
		return nil, reject(CheckSubject, "message signature is over %s:%x, not %s", ms.DigestAlgorithm(), ms.Digest(), b.what)
	}
	cand.kind, cand.bound = intoto.KindSignature, alg+":"+hex.EncodeToString(want)
	cand.artifact = func() verify.ArtifactPolicyOption { return verify.WithArtifactDigest(alg, want) }
	return cand, nil
}

// bindStatement parses the DSSE payload as an in-toto statement and requires one of the
// artifact's digests among its subjects (with the required name, when one is). Classification
// happens here, from the statement only.
func (c *candidate) bindStatement(env *dsse.Envelope, b *binding) *rejectErr {
	if env == nil {
		return reject(CheckBundle, "missing DSSE envelope")
	}
	if env.PayloadType != intoto.PayloadType {
		return reject(CheckStatement, "DSSE payload type %q is not %q", env.PayloadType, intoto.PayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return reject(CheckStatement, "DSSE payload is not base64: %v", err)
	}
	st, err := intoto.ParseStatement(payload)
	if err != nil {
		return reject(CheckStatement, "%v", err)
	}
	var names []string
	for _, sub := range st.Subject {
		alg, bound, want := b.matchDigest(sub.Digest)
		if alg == "" {
			continue
		}
		if b.name != nil && !b.name(sub.Name) {
			names = append(names, sub.Name)
			continue
		}
		c.statement, c.kind, c.bound = st, intoto.Classify(st.PredicateType), bound
		c.artifact = func() verify.ArtifactPolicyOption { return verify.WithArtifactDigest(alg, want) }
		return nil
	}
	if len(names) > 0 {
		return reject(CheckSubject, "statement subject with the digest of %s is named %q, not %s", b.what, names, b.wantName)
	}
	return reject(CheckSubject, "statement subjects %v do not include %s", st.SubjectDigests(), b.what)
}

func legacySignature(c *oci.Candidate) ([]byte, *rejectErr) {
	b64, ok := c.Annotations[annSignature]
	if !ok || b64 == "" {
		return nil, reject(CheckBundle, "layer has no %s annotation", annSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, reject(CheckBundle, "%s is not base64: %v", annSignature, err)
	}
	return sig, nil
}

// legacyEntity is a cosign .sig/.att layer seen as a sigstore-go SignedEntity: the
// certificate (or a key hint), the signature content, the Rekor entry rebuilt from cosign's
// bundle annotation, and RFC 3161 timestamps.
type legacy struct {
	cert       *x509.Certificate
	sig        verify.SignatureContent
	entries    []*tlog.Entry
	timestamps [][]byte
}

func legacyEntity(c *oci.Candidate, sig verify.SignatureContent) (*legacy, *rejectErr) {
	l := &legacy{sig: sig}
	if pemCert := c.Annotations[annCertificate]; pemCert != "" {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(pemCert))
		if err != nil || len(certs) != 1 {
			return nil, reject(CheckBundle, "%s is not one PEM certificate", annCertificate)
		}
		l.cert = certs[0]
	}
	if rb := c.Annotations[annBundle]; rb != "" {
		e, err := parseRekorBundle([]byte(rb))
		if err != nil {
			return nil, reject(CheckBundle, "%s: %v", annBundle, err)
		}
		l.entries = append(l.entries, e)
	}
	if ts := c.Annotations[annTimestamp]; ts != "" {
		var v struct {
			SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
		}
		if err := intoto.CheckStrictJSON([]byte(ts)); err != nil {
			return nil, reject(CheckBundle, "%s: %v", annTimestamp, err)
		}
		if err := json.Unmarshal([]byte(ts), &v); err != nil || len(v.SignedRFC3161Timestamp) == 0 {
			return nil, reject(CheckBundle, "%s is malformed", annTimestamp)
		}
		l.timestamps = append(l.timestamps, v.SignedRFC3161Timestamp)
	}
	return l, nil
}

func parseRekorBundle(data []byte) (*tlog.Entry, error) {
	if err := intoto.CheckStrictJSON(data); err != nil {
		return nil, err
	}
	var rb struct {
		SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
		Payload              struct {
			Body           []byte `json:"body"`
			IntegratedTime int64  `json:"integratedTime"`
			LogIndex       int64  `json:"logIndex"`
			LogID          string `json:"logID"`
		} `json:"Payload"`
	}
	if err := json.Unmarshal(data, &rb); err != nil {
		return nil, err
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("logID: %w", err)
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, errors.New("no SignedEntryTimestamp")
	}
	//lint:ignore SA1019 cosign's legacy layout carries a Rekor v1 entry's raw fields, not the protobuf TransparencyLogEntry NewTlogEntry takes
	return tlog.NewEntry(rb.Payload.Body, rb.Payload.IntegratedTime, rb.Payload.LogIndex, logID, rb.SignedEntryTimestamp, nil)
}

func (l *legacy) HasInclusionPromise() bool { return len(l.entries) > 0 }
func (l *legacy) HasInclusionProof() bool   { return false }
func (l *legacy) Version() (string, error)  { return "v0.1", nil }
func (l *legacy) SignatureContent() (verify.SignatureContent, error) {
	return l.sig, nil
}
func (l *legacy) Timestamps() ([][]byte, error)       { return l.timestamps, nil }
func (l *legacy) TlogEntries() ([]*tlog.Entry, error) { return l.entries, nil }
func (l *legacy) VerificationContent() (verify.VerificationContent, error) {
	if l.cert != nil {
		return bundle.NewCertificate(l.cert), nil
	}
	return keyHint{}, nil
}

// keyHint is the verification content of a key-signed legacy signature: the key comes from
// the authority being tried, never from the registry.
type keyHint struct{}

func (keyHint) CompareKey(key any, tm root.TrustedMaterial) bool {
	v, err := tm.PublicKeyVerifier("")
	if err != nil {
		return false
	}
	pub, err := v.PublicKey()
	if err != nil {
		return false
	}
	return cryptoutils.EqualKeys(key, pub) == nil
}
func (keyHint) ValidAtTime(t time.Time, tm root.TrustedMaterial) bool {
	v, err := tm.PublicKeyVerifier("")
	return err == nil && v.ValidAtTime(t)
}
func (keyHint) Certificate() *x509.Certificate        { return nil }
func (keyHint) Intermediates() []*x509.Certificate    { return nil }
func (k keyHint) PublicKey() verify.PublicKeyProvider { return k }
func (keyHint) Hint() string                          { return "" }

// parsedBundle is a bundle whose transparency-log entries were parsed once.
type parsedBundle struct {
	*bundle.Bundle
	entries []*tlog.Entry
}

func (p *parsedBundle) TlogEntries() ([]*tlog.Entry, error) { return p.entries, nil }
