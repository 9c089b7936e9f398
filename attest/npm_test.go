package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/internal/testenv"
)

// npmFixture is one real package from ../shared/testdata/npm with the policy that trusts
// its publishing workflow.
type npmFixture struct {
	file, name, version, policy, repo string
}

var npmFixtures = []npmFixture{
	{"gundam-visor-cli-v1-tag", "gundam-visor", "1.0.1", `
authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml@refs/tags/v1.0.1
require: {signature: true, provenance: true}
tlog: {required: true}
builders: [https://github.com/actions/runner/github-hosted]
refs: [refs/tags/v*]
`, "https://github.com/ramonpetgrave64/gundam-visor"},
	{"provenance-npm-test-cli-v1-prega", "sigstore", "2.3.1", `
authorities:
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main
      extensions: {sourceRepositoryURI: https://github.com/sigstore/sigstore-js, runnerEnvironment: github-hosted}
require: {signature: true, provenance: true}
tlog: {required: true}
refs: [refs/heads/main]
`, "https://github.com/sigstore/sigstore-js"},
	{"provenance-npm-test-ossf", "@laurentsimon/provenance-npm-test", "1.0.5", `
authorities:
  - name: slsa-generator
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/delegator_lowperms-generic_slsa3\.yml@refs/tags/v[0-9.]+
require: {provenance: true}
tlog: {required: true}
`, "https://github.com/laurentsimon/provenance-npm-test"},
}

func readNPM(t *testing.T, file string) (tarball, attestations []byte) {
	t.Helper()
	var err error
	if tarball, err = os.ReadFile(testenv.SharedTestdata(t, "npm", file+".tgz")); err != nil {
		t.Fatal(err)
	}
	if attestations, err = os.ReadFile(testenv.SharedTestdata(t, "npm", file+".tgz.json")); err != nil {
		t.Fatal(err)
	}
	return tarball, attestations
}

func npmVerifier(t *testing.T, pol string, opts ...attest.Option) *attest.Verifier {
	t.Helper()
	v, err := attest.NewVerifier(mustPolicy(t, pol), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNPMFixturesVerifyOffline(t *testing.T) {
	for _, f := range npmFixtures {
		t.Run(f.file, func(t *testing.T) {
			tgz, atts := readNPM(t, f.file)
			v := npmVerifier(t, f.policy)
			res, err := v.VerifyNPMPackage(&attest.NPMPackage{Name: f.name, Version: f.version, Tarball: tgz, Attestations: atts},
				attest.ForSourceRepository(f.repo))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Passed {
				t.Fatalf("not passed:\n%s", res.Summary())
			}
			kinds := map[attest.Kind]int{}
			for _, it := range res.Items {
				kinds[it.Kind]++
			}
			if kinds[attest.KindPublish] != 1 || kinds[attest.KindProvenance] != 1 || len(res.Items) != 2 {
				t.Fatalf("items %v:\n%s", kinds, res.Summary())
			}
			a := res.Artifact
			if a == nil || a.Type != "npm" || a.Name != f.name || a.Version != f.version || len(a.Digests["sha512"]) != 128 || len(a.Digests["sha256"]) != 64 ||
				res.Digest != "sha512:"+a.Digests["sha512"] {
				t.Fatalf("artifact %+v digest %s", a, res.Digest)
			}
			if p := res.Provenance; p == nil || !strings.Contains(f.repo, strings.TrimPrefix(p.SourceRepo, "https://")) {
				t.Fatalf("provenance %+v", res.Provenance)
			}
			t.Log(res.Summary())
		})
	}
}

// mutateDoc rewrites an attestations document: fn gets entry i (as decoded JSON) and the
// decoded statement of its bundle, and may change either; the statement is re-encoded into
// the DSSE payload without re-signing.
func mutateDoc(t *testing.T, doc []byte, i int, fn func(entry, statement map[string]any)) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	entry := d["attestations"].([]any)[i].(map[string]any)
	env := entry["bundle"].(map[string]any)["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	fn(entry, st)
	payload, err = json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func subject0(st map[string]any) map[string]any {
	return st["subject"].([]any)[0].(map[string]any)
}

// TestNPMTamperRefused changes one thing at a time in a real package and its real
// attestations and checks that the package is refused with the check that catches it.
func TestNPMTamperRefused(t *testing.T) {
	f := npmFixtures[0] // gundam-visor@1.0.1: publish attestation [0], provenance [1]
	tgz, atts := readNPM(t, f.file)
	integrity := npm.Integrity(npm.Sum(tgz).SHA512)
	flipped := append([]byte{}, tgz...)
	flipped[len(flipped)/2] ^= 1
	window := func(until string) npm.Key {
		k := npm.DefaultKeys()[0]
		u, err := time.Parse(time.RFC3339, until)
		if err != nil {
			t.Fatal(err)
		}
		k.Expires = &u
		return k
	}
	wrongID := strings.Replace(f.policy, "npm-publish.yml@refs/tags/v1.0.1", "release.yml@refs/tags/v1.0.1", 1)

	cases := []struct {
		name         string
		pkg          attest.NPMPackage
		policy       string
		opts         []attest.Option
		call         []attest.CallOption
		check        string // a failure with this check
		reason       string // and this in its reason
		publishOK    bool   // the publish attestation still verifies
		provenanceOK bool
	}{
		{name: "tarball byte vs registry integrity", pkg: attest.NPMPackage{Tarball: flipped, Integrity: integrity, Attestations: atts},
			check: attest.CheckIntegrity, reason: "tarball sha512 is"},
		{name: "tarball byte, local files", pkg: attest.NPMPackage{Tarball: flipped, Attestations: atts},
			check: attest.CheckSubject, reason: "do not include the package pkg:npm/gundam-visor@1.0.1"},
		{name: "integrity string of another tarball", pkg: attest.NPMPackage{Tarball: tgz, Integrity: npm.Integrity(npm.Sum(flipped).SHA512), Attestations: atts},
			check: attest.CheckIntegrity, reason: "integrity"},
		{name: "integrity string sha1 only", pkg: attest.NPMPackage{Tarball: tgz, Integrity: "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", Attestations: atts},
			check: attest.CheckIntegrity, reason: "no sha512 digest"},
		{name: "subject name in provenance", pkg: attest.NPMPackage{Tarball: tgz, Attestations: mutateDoc(t, atts, 1, func(_, st map[string]any) {
			subject0(st)["name"] = "pkg:npm/gundam-visor-evil@1.0.1"
		})}, check: attest.CheckSubject, reason: `named ["pkg:npm/gundam-visor-evil@1.0.1"], not pkg:npm/gundam-visor@1.0.1`, publishOK: true},
		{name: "claimed version differs from both subjects", pkg: attest.NPMPackage{Version: "1.0.2", Tarball: tgz, Attestations: atts},
			check: attest.CheckSubject, reason: "not pkg:npm/gundam-visor@1.0.2"},
		{name: "subject digest in publish attestation", pkg: attest.NPMPackage{Tarball: tgz, Attestations: mutateDoc(t, atts, 0, func(_, st map[string]any) {
			subject0(st)["digest"] = map[string]any{"sha512": npm.Sum(flipped).SHA512}
		})}, check: attest.CheckSubject, reason: "do not include", provenanceOK: true},
		{name: "subject digest and tarball swapped together", pkg: attest.NPMPackage{Tarball: flipped, Attestations: mutateDoc(t, atts, 1, func(_, st map[string]any) {
			subject0(st)["digest"] = map[string]any{"sha512": npm.Sum(flipped).SHA512}
		})}, check: attest.CheckTlog, reason: "does not match envelope payload hash"},
		{name: "predicate type in the document", pkg: attest.NPMPackage{Tarball: tgz, Attestations: mutateDoc(t, atts, 1, func(e, _ map[string]any) {
			e["predicateType"] = "https://slsa.dev/provenance/v0.2"
		})}, check: attest.CheckPredicate, reason: `lists predicate type "https://slsa.dev/provenance/v0.2", the signed statement is "https://slsa.dev/provenance/v1"`, publishOK: true},
		{name: "predicate type in the signed statement", pkg: attest.NPMPackage{Tarball: tgz, Attestations: mutateDoc(t, atts, 1, func(e, st map[string]any) {
			st["predicateType"] = "https://slsa.dev/provenance/v0.2"
			e["predicateType"] = "https://slsa.dev/provenance/v0.2"
		})}, check: attest.CheckTlog, reason: "does not match envelope payload hash", publishOK: true},
		{name: "wrong identity", policy: wrongID, pkg: attest.NPMPackage{Tarball: tgz, Attestations: atts},
			check: attest.CheckIdentity, reason: "expected SAN", publishOK: true},
		{name: "wrong repository", pkg: attest.NPMPackage{Tarball: tgz, Attestations: atts},
			call:  []attest.CallOption{attest.ForSourceRepository("https://github.com/evil/gundam-visor")},
			check: attest.CheckSourceRepository, reason: `not "https://github.com/evil/gundam-visor"`, publishOK: true},
		{name: "npm key window expired before the log time", pkg: attest.NPMPackage{Tarball: tgz, Attestations: atts},
			opts:  []attest.Option{attest.WithNPMKeys(window("2024-01-01T00:00:00Z"))},
			check: attest.CheckKey, reason: "validity window", provenanceOK: true},
		{name: "npm key not configured", pkg: attest.NPMPackage{Tarball: tgz, Attestations: atts},
			opts:  []attest.Option{attest.WithNPMKeys(npm.DefaultKeys()[1])},
			check: attest.CheckAuthority, reason: `"SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA", which is not configured`, provenanceOK: true},
		{name: "no npm keys at all", pkg: attest.NPMPackage{Tarball: tgz, Attestations: atts},
			opts:  []attest.Option{attest.WithNPMKeys()},
			check: attest.CheckAuthority, reason: "not configured", provenanceOK: true},
		{name: "attestations document not JSON", pkg: attest.NPMPackage{Tarball: tgz, Attestations: []byte(`{"attestations":[`)},
			check: attest.CheckBundle, reason: "npm attestations document"},
		{name: "provenance missing from the document", pkg: attest.NPMPackage{Tarball: tgz, Attestations: func() []byte {
			var d map[string][]json.RawMessage
			if err := json.Unmarshal(atts, &d); err != nil {
				t.Fatal(err)
			}
			d["attestations"] = d["attestations"][:1]
			b, _ := json.Marshal(d)
			return b
		}()}, check: attest.CheckRequireProvenance, reason: "no verified provenance", publishOK: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := f.policy
			if c.policy != "" {
				pol = c.policy
			}
			pkg := c.pkg
			pkg.Name = f.name
			if pkg.Version == "" {
				pkg.Version = f.version
			}
			c.call = append([]attest.CallOption{attest.ForSourceRepository(f.repo)}, c.call...)
			res, err := npmVerifier(t, pol, c.opts...).VerifyNPMPackage(&pkg, c.call...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed {
				t.Fatalf("tampered package passed:\n%s", res.Summary())
			}
			found := false
			for _, fl := range res.Failures {
				found = found || (fl.Check == c.check && strings.Contains(fl.Reason, c.reason))
			}
			if !found {
				t.Fatalf("no failure %s containing %q:\n%s", c.check, c.reason, res.Summary())
			}
			kinds := map[attest.Kind]bool{}
			for _, it := range res.Items {
				kinds[it.Kind] = true
			}
			if kinds[attest.KindPublish] != c.publishOK || kinds[attest.KindProvenance] != c.provenanceOK {
				t.Fatalf("verified %v, want publish %v provenance %v:\n%s", kinds, c.publishOK, c.provenanceOK, res.Summary())
			}
		})
	}
}

// TestNPMBrokenSignatureVariantsRefused runs the real *-invalidsigprov fixtures: each has a
// provenance payload that its signature does not cover (one byte appended) and must be
// refused for it, whatever the policy requires (the second policy requires nothing).
func TestNPMBrokenSignatureVariantsRefused(t *testing.T) {
	for _, f := range npmFixtures {
		t.Run(f.file, func(t *testing.T) {
			tgz, atts := readNPM(t, f.file+"-invalidsigprov")
			for _, pol := range []string{f.policy, "authorities: " + strings.SplitN(strings.SplitN(f.policy, "authorities:", 2)[1], "require:", 2)[0]} {
				res, err := npmVerifier(t, pol).VerifyNPMPackage(&attest.NPMPackage{Name: f.name, Version: f.version, Tarball: tgz, Attestations: atts},
					attest.ForSourceRepository(f.repo))
				if err != nil {
					t.Fatal(err)
				}
				if res.Passed || len(res.Failures) == 0 {
					t.Fatalf("broken signature passed:\n%s", res.Summary())
				}
				fl := res.Failures[0]
				// The signed payload is not the one the log entry records: the log check, run
				// first by sigstore-go, is the one that names it.
				if fl.Check != attest.CheckTlog || !strings.Contains(fl.Reason, "npm attestations[1] (https://slsa.dev/provenance/") ||
					!strings.Contains(fl.Reason, "does not match envelope payload hash") {
					t.Fatalf("want a tlog failure naming the provenance bundle:\n%s", res.Summary())
				}
			}
		})
	}
}

// BenchmarkVerifyNPMPackage verifies one real npm package from local bytes: the tarball's
// digests, npm's publish attestation (registry key, Rekor entry) and the keyless SLSA
// provenance (Fulcio chain, SCT, Rekor entry, identity, predicate), with the verifier built
// once, as serve does.
func BenchmarkVerifyNPMPackage(b *testing.B) {
	f := npmFixtures[0]
	tgz, err := os.ReadFile(testenv.SharedTestdata(b, "npm", f.file+".tgz"))
	if err != nil {
		b.Fatal(err)
	}
	atts, err := os.ReadFile(testenv.SharedTestdata(b, "npm", f.file+".tgz.json"))
	if err != nil {
		b.Fatal(err)
	}
	pol, err := attest.ParsePolicy([]byte(f.policy))
	if err != nil {
		b.Fatal(err)
	}
	v, err := attest.NewVerifier(pol)
	if err != nil {
		b.Fatal(err)
	}
	pkg := &attest.NPMPackage{Name: f.name, Version: f.version, Tarball: tgz, Integrity: npm.Integrity(npm.Sum(tgz).SHA512), Attestations: atts}
	b.ReportAllocs()
	for b.Loop() {
		res, err := v.VerifyNPMPackage(pkg, attest.ForSourceRepository(f.repo))
		if err != nil || !res.Passed {
			b.Fatal(err, res.Failures)
		}
	}
}
