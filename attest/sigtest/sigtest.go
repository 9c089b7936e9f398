package sigtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

// Sigstore is an in-process Sigstore: a Fulcio-like CA issuing certificates with chosen
// extensions, plus the virtual Sigstore's Rekor and TSA.
type Sigstore struct {
	VS        *ca.VirtualSigstore
	rootCert  *x509.Certificate
	interCert *x509.Certificate
	interKey  *ecdsa.PrivateKey
	fulcio    *root.FulcioCertificateAuthority
}

// New starts an in-process Sigstore.
func New(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rc, rk, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	ic, ik, err := ca.GenerateFulcioIntermediate(rc, rk)
	if err != nil {
		t.Fatal(err)
	}
	return &Sigstore{VS: vs, rootCert: rc, interCert: ic, interKey: ik, fulcio: &root.FulcioCertificateAuthority{
		Root: rc, Intermediates: []*x509.Certificate{ic},
		ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour),
		URI: "https://fulcio.test",
	}}
}

// TrustedMaterial is what a verifier must trust to verify this Sigstore's bundles.
func (s *Sigstore) TrustedMaterial() root.TrustedMaterial { return trusted{s} }

type trusted struct{ s *Sigstore }

func (t trusted) TimestampingAuthorities() []root.TimestampingAuthority {
	return t.s.VS.TimestampingAuthorities()
}
func (t trusted) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return []root.CertificateAuthority{t.s.fulcio}
}
func (t trusted) RekorLogs() map[string]*root.TransparencyLog { return t.s.VS.RekorLogs() }
func (t trusted) CTLogs() map[string]*root.TransparencyLog    { return nil }
func (t trusted) PublicKeyVerifier(string) (root.TimeConstrainedVerifier, error) {
	return nil, errors.New("no keys")
}

// Identity is what the test Fulcio puts in a certificate.
type Identity struct {
	// SAN is a URI SAN (e.g. a GitHub workflow URI).
	SAN    string
	Issuer string
	// Extensions by Fulcio OID arc (1.3.6.1.4.1.57264.1.<n>): e.g. 12 source repository URI,
	// 14 source repository ref, 9 build signer URI, 11 runner environment, 20 build trigger.
	Extensions map[int]string
}

// Fulcio extension arcs.
const (
	ExtBuildSignerURI      = 9
	ExtRunnerEnvironment   = 11
	ExtSourceRepositoryURI = 12
	ExtSourceRepoDigest    = 13
	ExtSourceRepositoryRef = 14
	ExtBuildTrigger        = 20
)

func fulcioOID(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n}
}

// certProvider issues a certificate for the keypair's public key.
type certProvider struct {
	s  *Sigstore
	id Identity
}

func (p certProvider) GetCertificate(_ context.Context, kp sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	return p.s.issue(p.id, kp.GetPublicKey())
}

func utf8(v string) []byte {
	b, err := asn1.MarshalWithParams(v, "utf8")
	if err != nil {
		panic(err)
	}
	return b
}

func (s *Sigstore) issue(id Identity, pub crypto.PublicKey) ([]byte, error) {
	u, err := url.Parse(id.SAN)
	if err != nil {
		return nil, err
	}
	exts := []pkix.Extension{{Id: fulcioOID(8), Value: utf8(id.Issuer)}}
	for n, v := range id.Extensions {
		exts = append(exts, pkix.Extension{Id: fulcioOID(n), Value: utf8(v)})
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		URIs:            []*url.URL{u},
		NotBefore:       time.Now().Add(-time.Minute),
		NotAfter:        time.Now().Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, s.interCert, pub, s.interKey)
}

// rekor adds a virtual-Rekor dsse entry (inclusion proof and promise) to a bundle.
type rekor struct {
	s        *Sigstore
	logIndex int64
}

func (r rekor) GetTransparencyLogEntry(_ context.Context, certPEM []byte, b *protobundle.Bundle) error {
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return errors.New("no certificate PEM")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	pe := b.GetDsseEnvelope()
	if pe == nil {
		return errors.New("sigtest rekor: only DSSE bundles")
	}
	env := &dsse.Envelope{PayloadType: pe.PayloadType, Payload: base64.StdEncoding.EncodeToString(pe.Payload)}
	for _, sg := range pe.Signatures {
		env.Signatures = append(env.Signatures, dsse.Signature{KeyID: sg.Keyid, Sig: base64.StdEncoding.EncodeToString(sg.Sig)})
	}
	tle, err := r.s.LogEntry(cert, env, time.Now(), r.logIndex, true)
	if err != nil {
		return err
	}
	b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, tle)
	return nil
}

// LogEntry makes a virtual-Rekor dsse entry for env signed by cert, with an inclusion
// promise (SET) for logIndex and, when proof is set, an inclusion proof.
func (s *Sigstore) LogEntry(cert *x509.Certificate, env *dsse.Envelope, at time.Time, logIndex int64, proof bool) (*protorekor.TransparencyLogEntry, error) {
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		return nil, err
	}
	e, err := s.VS.GenerateTlogEntry(cert, env, sig, at.Unix(), proof)
	if err != nil {
		return nil, err
	}
	tle := e.TransparencyLogEntry()
	tle.LogIndex = logIndex
	if tle.InclusionProof != nil {
		tle.InclusionProof.LogIndex = logIndex
		if logIndex != 0 {
			tle.InclusionProof = nil
		}
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	logID, err := s.VS.RekorLogID()
	if err != nil {
		return nil, err
	}
	set, err := s.VS.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: at.Unix(), LogIndex: logIndex, LogID: logID,
	})
	if err != nil {
		return nil, err
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle, nil
}

// LogIDHex is the virtual Rekor's log id.
func (s *Sigstore) LogIDHex() string {
	id, _ := s.VS.RekorLogID()
	return id
}

// KeylessDSSE signs statement with sign.Bundle and an ephemeral key certified for id, logged
// in the virtual Rekor. It returns the bundle.
func (s *Sigstore) KeylessDSSE(t testing.TB, id Identity, statement []byte) *protobundle.Bundle {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: "application/vnd.in-toto+json"}, kp, sign.BundleOptions{
		CertificateProvider: certProvider{s: s, id: id},
		TransparencyLogs:    []sign.Transparency{rekor{s: s}},
		TrustedRoot:         s.TrustedMaterial(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// KeylessDSSEWithPayloadType signs arbitrary bytes as a DSSE envelope of payloadType,
// without a log entry check (for negatives whose payload is not a statement).
func (s *Sigstore) KeylessDSSEWithPayloadType(t testing.TB, id Identity, payloadType string, data []byte) *protobundle.Bundle {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: data, PayloadType: payloadType}, kp, sign.BundleOptions{
		CertificateProvider: certProvider{s: s, id: id},
		TransparencyLogs:    []sign.Transparency{rekor{s: s}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Key is an ephemeral signing key.
type Key struct {
	kp *sign.EphemeralKeypair
}

// NewKey makes an ECDSA P-256 key.
func NewKey(t testing.TB) *Key {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{kp: kp}
}

// PublicPEM is the key's PEM public key.
func (k *Key) PublicPEM(t testing.TB) string {
	t.Helper()
	p, err := k.kp.GetPublicKeyPem()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Sign signs data (the whole message) with the key, as cosign does for simplesigning payloads.
func (k *Key) Sign(t testing.TB, data []byte) []byte {
	t.Helper()
	sig, _, err := k.kp.SignData(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// DSSE signs statement into a DSSE envelope (JSON), as cosign attest --key does.
func (k *Key) DSSE(t testing.TB, payloadType string, statement []byte) []byte {
	t.Helper()
	b := k.DSSEBundle(t, payloadType, statement)
	pe := b.GetDsseEnvelope()
	env := dsse.Envelope{PayloadType: pe.PayloadType, Payload: base64.StdEncoding.EncodeToString(pe.Payload)}
	for _, sg := range pe.Signatures {
		env.Signatures = append(env.Signatures, dsse.Signature{KeyID: sg.Keyid, Sig: base64.StdEncoding.EncodeToString(sg.Sig)})
	}
	out, err := jsonMarshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// DSSEBundle signs statement into a key-based bundle (no log entry).
func (k *Key) DSSEBundle(t testing.TB, payloadType string, statement []byte) *protobundle.Bundle {
	t.Helper()
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: payloadType}, k.kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Marshal turns a bundle into its JSON form.
func Marshal(t testing.TB, b *protobundle.Bundle) []byte {
	t.Helper()
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Statement builds an in-toto v1 statement about digest ("sha256:<hex>").
func Statement(digest, predicateType, predicate string) []byte {
	h := digest[len("sha256:"):]
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"image","digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`, h, predicateType, predicate))
}

// SimpleSigning builds a cosign simplesigning payload for digest.
func SimpleSigning(ref, digest string) []byte {
	return []byte(fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, ref, digest))
}

// AddLogEntry appends another entry for b's envelope in the same virtual log, at logIndex,
// with an inclusion promise only.
func (s *Sigstore) AddLogEntry(t testing.TB, b *protobundle.Bundle, logIndex int64) {
	t.Helper()
	cert, err := x509.ParseCertificate(b.VerificationMaterial.GetCertificate().GetRawBytes())
	if err != nil {
		t.Fatal(err)
	}
	pe := b.GetDsseEnvelope()
	env := &dsse.Envelope{PayloadType: pe.PayloadType, Payload: base64.StdEncoding.EncodeToString(pe.Payload)}
	for _, sg := range pe.Signatures {
		env.Signatures = append(env.Signatures, dsse.Signature{KeyID: sg.Keyid, Sig: base64.StdEncoding.EncodeToString(sg.Sig)})
	}
	tle, err := s.LogEntry(cert, env, time.Now(), logIndex, false)
	if err != nil {
		t.Fatal(err)
	}
	b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, tle)
}

// AddTimestamp adds an RFC 3161 timestamp from the virtual TSA over b's signature.
func (s *Sigstore) AddTimestamp(t testing.TB, b *protobundle.Bundle) {
	t.Helper()
	var sig []byte
	if pe := b.GetDsseEnvelope(); pe != nil {
		sig = pe.Signatures[0].Sig
	} else {
		sig = b.GetMessageSignature().GetSignature()
	}
	ts, err := s.VS.TimestampResponse(sig)
	if err != nil {
		t.Fatal(err)
	}
	vm := b.VerificationMaterial
	if vm.TimestampVerificationData == nil {
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
	}
	vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
}

// MessageBundle signs data itself (a message signature, as for an image manifest) into a
// key-based bundle.
func (k *Key) MessageBundle(t testing.TB, data []byte) *protobundle.Bundle {
	t.Helper()
	b, err := sign.Bundle(&sign.PlainData{Data: data}, k.kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
