package attest_test

import (
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// sigPolicy requires only a signature from the CI identity.
const sigPolicy = `
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
require: {signature: true}
sct: {unsafeSkip: true}
`

// sigPolicyRegExp is sigPolicy with a subject regular expression (Vetted anchors it).
const sigPolicyRegExp = `
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: 'https://github\.com/acme/weather/\.github/workflows/release\.yml@refs/heads/main'
require: {signature: true}
sct: {unsafeSkip: true}
`

func withSAN(san string) sigtest.Identity {
	id := ghIdentity()
	id.SAN = san
	return id
}

func withIssuer(iss string) sigtest.Identity {
	id := ghIdentity()
	id.Issuer = iss
	return id
}

// TestNegatives is the acceptance bar: each case must be rejected, naming the check and why.
func TestNegatives(t *testing.T) {
	type tc struct {
		name string
		// setup pushes what the case needs to repo acme/weather and returns the reference to
		// verify and the policy.
		setup     func(t *testing.T, f *fixture) (ref, policy string)
		check     string // failed check
		reason    string
		rejCheck  string // the candidate rejection behind it, if any
		rejReason string
	}
	signed := func(id sigtest.Identity, pol string) func(t *testing.T, f *fixture) (string, string) {
		return func(t *testing.T, f *fixture) (string, string) {
			d := f.reg.PushImage(t, "acme/weather", "v1")
			f.attachKeyless("acme/weather", d, id, attest.PredicateCosignSign, `{}`)
			return f.reg.Ref("acme/weather", "v1"), pol
		}
	}
	cases := []tc{
		{
			name: "wrong identity", setup: signed(withSAN("https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main"), sigPolicy),
			check: attest.CheckRequireSignature, reason: "no verified signature",
			rejCheck: attest.CheckIdentity, rejReason: "acme/other",
		},
		{
			name: "issuer look-alike", setup: signed(withIssuer("https://github.com.evil.io"), sigPolicy),
			check: attest.CheckRequireSignature, reason: "identity",
			rejCheck: attest.CheckIdentity, rejReason: "github.com.evil.io",
		},
		{
			name: "SAN with the allowed one as a prefix", setup: signed(withSAN(ghWorkflow+"-evil"), sigPolicy),
			check: attest.CheckRequireSignature, reason: "identity", rejCheck: attest.CheckIdentity, rejReason: "-evil",
		},
		{
			name: "SAN with the allowed one as a prefix, regexp policy", setup: signed(withSAN(ghWorkflow+"/../../evil"), sigPolicyRegExp),
			check: attest.CheckRequireSignature, reason: "identity", rejCheck: attest.CheckIdentity, rejReason: "evil",
		},
		{
			name: "SAN with the allowed one inside a URL query", setup: signed(withSAN("https://evil.io/x?u="+ghWorkflow), sigPolicy),
			check: attest.CheckRequireSignature, reason: "identity", rejCheck: attest.CheckIdentity, rejReason: "evil.io",
		},
		{
			name: "SAN with the allowed one inside a URL query, regexp policy", setup: signed(withSAN("https://evil.io/x?u="+ghWorkflow), sigPolicyRegExp),
			check: attest.CheckRequireSignature, reason: "identity", rejCheck: attest.CheckIdentity, rejReason: "evil.io",
		},
		{
			name: "signature copied from image A to B's .sig tag",
			setup: func(t *testing.T, f *fixture) (string, string) {
				k := sigtest.NewKey(t)
				a := f.reg.PushImage(t, "acme/weather", "a")
				b := f.reg.PushImage(t, "acme/weather", "b")
				payload := sigtest.SimpleSigning(f.reg.Ref("acme/weather", "a"), a)
				layer := sigtest.SigLayer(payload, k.Sign(t, payload), nil)
				f.reg.AttachSig(t, "acme/weather", a, layer)
				f.reg.AttachSig(t, "acme/weather", b, layer)
				return f.reg.Ref("acme/weather", "b"), keyPolicy(k.PublicPEM(t), "")
			},
			check: attest.CheckRequireSignature, reason: "no verified signature",
			rejCheck: attest.CheckSubject, rejReason: "simplesigning payload signs sha256:",
		},
		{
			name: "referrer whose subject is B but whose statement subject is A",
			setup: func(t *testing.T, f *fixture) (string, string) {
				a := f.reg.PushImage(t, "acme/weather", "a")
				b := f.reg.PushImage(t, "acme/weather", "b")
				bun := f.ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(a, attest.PredicateCosignSign, `{}`))
				f.reg.AttachBundle(t, "acme/weather", b, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "b"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "no verified signature",
			rejCheck: attest.CheckSubject, rejReason: "do not include the image",
		},
		{
			name: "tlog entry spliced from another bundle",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				st := sigtest.Statement(d, attest.PredicateCosignSign, `{}`)
				x := f.ss.KeylessDSSE(t, ghIdentity(), st)
				y := f.ss.KeylessDSSE(t, ghIdentity(), st)
				x.VerificationMaterial.TlogEntries = y.VerificationMaterial.TlogEntries
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, x), nil)
				return f.reg.Ref("acme/weather", "v1"), sigPolicy + "tlog: {required: true}\n"
			},
			check: attest.CheckRequireSignature, reason: "tlog",
			rejCheck: attest.CheckTlog, rejReason: "does not match",
		},
		{
			name: "valid attestation of the wrong predicate type when SLSA is required",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				f.attachKeyless("acme/weather", d, ghIdentity(), attest.PredicateSPDX, spdxDoc)
				return f.reg.Ref("acme/weather", "v1"), strings.Replace(sigPolicy, "{signature: true}", "{provenance: true}", 1)
			},
			check: attest.CheckRequireProvenance, reason: "no verified provenance",
		},
		{
			name: "signed DSSE whose payload is not a statement",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := f.ss.KeylessDSSEWithPayloadType(t, ghIdentity(), "application/vnd.in-toto+json", []byte(`{"hello":"`+d+`"}`))
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "v1"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "statement",
			rejCheck: attest.CheckStatement, rejReason: "is not an in-toto statement",
		},
		{
			name: "signed DSSE of another payload type",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := f.ss.KeylessDSSEWithPayloadType(t, ghIdentity(), "text/plain", sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "v1"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "statement",
			rejCheck: attest.CheckStatement, rejReason: `payload type "text/plain"`,
		},
		{
			name: "annotation claiming SLSA over a statement that is not",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := f.ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(d, attest.PredicateSPDX, spdxDoc))
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), map[string]string{
					"dev.sigstore.bundle.predicateType": attest.PredicateSLSAv1,
				})
				return f.reg.Ref("acme/weather", "v1"), strings.Replace(sigPolicy, "{signature: true}", "{provenance: true}", 1)
			},
			check: attest.CheckRequireProvenance, reason: "no verified provenance",
		},
		{
			name: "two log entries from the same log counted as two logs",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := f.ss.KeylessDSSE(t, ghIdentity(), sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
				f.ss.AddLogEntry(t, bun, 1)
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "v1"), sigPolicy + "tlog: {required: true, threshold: 2}\n"
			},
			check: attest.CheckRequireSignature, reason: "tlog",
			rejCheck: attest.CheckTlog, rejReason: "not enough verified log entries from transparency log: 1 < 2",
		},
		{
			name: "expired key without timestamp",
			setup: func(t *testing.T, f *fixture) (string, string) {
				k := sigtest.NewKey(t)
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := k.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "v1"), keyPolicy(k.PublicPEM(t), "validUntil: 2020-01-01T00:00:00Z")
			},
			check: attest.CheckRequireSignature, reason: "timestamp",
			rejCheck: attest.CheckTimestamp, rejReason: "timestamps",
		},
		{
			name: "wrong key",
			setup: func(t *testing.T, f *fixture) (string, string) {
				k, other := sigtest.NewKey(t), sigtest.NewKey(t)
				d := f.reg.PushImage(t, "acme/weather", "v1")
				bun := k.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, bun), nil)
				return f.reg.Ref("acme/weather", "v1"), keyPolicy(other.PublicPEM(t), "")
			},
			check: attest.CheckRequireSignature, reason: "no verified signature",
			rejCheck: attest.CheckSignature, rejReason: "verif",
		},
		{
			name: "unsigned image",
			setup: func(t *testing.T, f *fixture) (string, string) {
				f.reg.PushImage(t, "acme/weather", "v1")
				return f.reg.Ref("acme/weather", "v1"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "no signatures or attestations found",
		},
		{
			name: "tag moved to an unsigned image",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				f.attachKeyless("acme/weather", d, ghIdentity(), attest.PredicateCosignSign, `{}`)
				f.reg.PushImage(t, "acme/weather", "v1")
				return f.reg.Ref("acme/weather", "v1"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "no signatures or attestations found",
		},
		{
			name: "certificate from a CA outside the trusted root",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				rogue := sigtest.New(t) // its own Fulcio CA, not trusted by the fixture
				b := rogue.KeylessDSSE(t, ghIdentity(), sigtest.Statement(d, attest.PredicateCosignSign, `{}`))
				b.VerificationMaterial.TlogEntries = nil
				f.ss.AddTimestamp(t, b) // a trusted time, so that the chain is what fails
				f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, b), nil)
				return f.reg.Ref("acme/weather", "v1"), sigPolicy
			},
			check: attest.CheckRequireSignature, reason: "certificate",
			rejCheck: attest.CheckCertificate, rejReason: "leaf certificate verification failed",
		},
		{
			name: "unsigned .sbom attachment",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				f.attachKeyless("acme/weather", d, ghIdentity(), attest.PredicateCosignSign, `{}`)
				f.reg.PutManifest(t, "acme/weather", sigtest.LegacyTag(d, ".sbom"), "", "",
					[]sigtest.Layer{{Data: []byte(spdxDoc), MediaType: "text/spdx+json"}}, nil)
				return f.reg.Ref("acme/weather", "v1"), strings.Replace(sigPolicy, "{signature: true}", "{signature: true, sbom: true}", 1)
			},
			check: attest.CheckRequireSBOM, reason: "no verified sbom",
		},
		{
			name: "keyless signature where the policy allows only keys",
			setup: func(t *testing.T, f *fixture) (string, string) {
				d := f.reg.PushImage(t, "acme/weather", "v1")
				f.attachKeyless("acme/weather", d, ghIdentity(), attest.PredicateCosignSign, `{}`)
				return f.reg.Ref("acme/weather", "v1"), keyPolicy(sigtest.NewKey(t).PublicPEM(t), "")
			},
			check: attest.CheckRequireSignature, reason: "authority",
			rejCheck: attest.CheckAuthority, rejReason: "certificate (keyless)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, true)
			ref, pol := c.setup(t, f)
			if ref == "" {
				t.Skip("TODO")
			}
			res := f.verify(ref, pol)
			wantFail(t, res, c.check, c.reason, c.rejCheck, c.rejReason)
		})
	}
}

func keyPolicy(pemKey, extra string) string {
	indented := "        " + strings.ReplaceAll(strings.TrimSpace(pemKey), "\n", "\n        ")
	key := "      pem: |\n" + indented + "\n"
	if extra != "" {
		key += "      " + extra + "\n"
	}
	return "authorities:\n  - name: release-key\n    key:\n" + key + "require: {signature: true}\n"
}
