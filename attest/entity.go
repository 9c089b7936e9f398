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

// prepare turns a discovered candidate into a verifiable entity bound to imageDigest.
func prepare(c *oci.Candidate, imageDigest string) (*candidate, *rejectErr) {
	digestBytes, err := hex.DecodeString(strings.TrimPrefix(imageDigest, "sha256:"))
	if err != nil || len(digestBytes) != sha256.Size {
		return nil, reject(CheckSubject, "image digest %q is not sha256", imageDigest)
	}
	byDigest := func() verify.ArtifactPolicyOption { return verify.WithArtifactDigest("sha256", digestBytes) }
	cand := &candidate{name: candidateName(c), artifact: byDigest}
	switch c.Source {
	case oci.SourceReferrer:
		if err := intoto.CheckStrictJSON(c.Data); err != nil {
			return nil, reject(CheckBundle, "%v", err)
		}
		var b bundle.Bundle
		if err := b.UnmarshalJSON(c.Data); err != nil {
			return nil, reject(CheckBundle, "not a valid sigstore bundle: %v", err)
		}
		vc, err := b.VerificationContent()
		if err != nil {
			return nil, reject(CheckBundle, "%v", err)
		}
		if cand.entries, err = b.TlogEntries(); err != nil {
			return nil, reject(CheckBundle, "%v", err)
		}
		// The log entries are parsed once, here, not again on every verification attempt.
		cand.entity, cand.cert = &parsedBundle{Bundle: &b, entries: cand.entries}, vc.Certificate() != nil
		sc, err := b.SignatureContent()
		if err != nil {
			return nil, reject(CheckBundle, "%v", err)
		}
		if env := sc.EnvelopeContent(); env != nil {
			if rej := cand.bindStatement(env.RawEnvelope(), imageDigest); rej != nil {
				return nil, rej
			}
			return cand, nil
		}
		ms := sc.MessageSignatureContent()
		if ms == nil {
			return nil, reject(CheckBundle, "bundle has neither a DSSE envelope nor a message signature")
		}
		if ms.DigestAlgorithm() != "SHA2_256" || !bytes.Equal(ms.Digest(), digestBytes) {
			return nil, reject(CheckSubject, "message signature is over %s:%x, not the image %s", ms.DigestAlgorithm(), ms.Digest(), imageDigest)
		}
		cand.kind = intoto.KindSignature
		return cand, nil
	case oci.SourceSigTag:
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
		if rej := cand.bindStatement(&env, imageDigest); rej != nil {
			return nil, rej
		}
		return cand, nil
	}
	return nil, reject(CheckBundle, "unknown source %q", c.Source)
}

// bindStatement parses the DSSE payload as an in-toto statement and requires the image
// digest among its subjects. Classification happens here, from the statement only.
func (c *candidate) bindStatement(env *dsse.Envelope, imageDigest string) *rejectErr {
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
	if !st.HasSubjectDigest(imageDigest) {
		return reject(CheckSubject, "statement subjects %v do not include the image %s", st.SubjectDigests(), imageDigest)
	}
	c.statement, c.kind = st, intoto.Classify(st.PredicateType)
	return nil
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
	return tlog.NewEntry(rb.Payload.Body, rb.Payload.IntegratedTime, rb.Payload.LogIndex, logID, rb.SignedEntryTimestamp, nil) //nolint:staticcheck // the only v1 constructor from cosign's fields
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
