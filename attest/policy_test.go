package attest_test

import (
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

// TestPolicyKnobs: extension pins, per-kind signers, timestamp and SCT thresholds, each
// accepting what it should and rejecting, with the check named, what it should not.
func TestPolicyKnobs(t *testing.T) {
	const pins = `
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: 'https://github\.com/acme/weather/\.github/workflows/release\.yml@refs/(heads/main|tags/v.*)'
      extensions:
        sourceRepositoryURI: https://github.com/acme/weather
        runnerEnvironment: github-hosted
require: {signature: true}
sct: {unsafeSkip: true}
`
	selfHosted := ghIdentity()
	selfHosted.Extensions[sigtest.ExtRunnerEnvironment] = "self-hosted"
	otherRepo := ghIdentity()
	otherRepo.Extensions[sigtest.ExtSourceRepositoryURI] = "https://github.com/evil/weather"
	tagged := ghIdentity()
	tagged.SAN = "https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v1.2.0"

	const twoSigners = `
authorities:
  - name: ci
    keyless: {issuer: https://token.actions.githubusercontent.com, subject: "https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main"}
  - name: sbom-bot
    keyless: {issuer: https://token.actions.githubusercontent.com, subject: "https://github.com/acme/weather/.github/workflows/sbom.yml@refs/heads/main"}
require: {sbom: true}
signers: {sbom: [sbom-bot]}
sct: {unsafeSkip: true}
`
	cases := []struct {
		name      string
		id        sigtest.Identity
		predType  string
		predicate string
		tsa       bool
		policy    string
		pass      bool
		check     string
		rejCheck  string
		rejReason string
	}{
		{name: "pinned extensions match", id: ghIdentity(), policy: pins, pass: true},
		{name: "regexp alternative matches a tag", id: tagged, policy: pins, pass: true},
		{name: "self-hosted runner", id: selfHosted, policy: pins, check: attest.CheckRequireSignature, rejCheck: attest.CheckIdentity, rejReason: "self-hosted"},
		{name: "other source repository", id: otherRepo, policy: pins, check: attest.CheckRequireSignature, rejCheck: attest.CheckIdentity, rejReason: "evil/weather"},
		{name: "SBOM signed by the allowed signer", id: withSAN("https://github.com/acme/weather/.github/workflows/sbom.yml@refs/heads/main"),
			predType: attest.PredicateSPDX, predicate: spdxDoc, policy: twoSigners, pass: true},
		{name: "SBOM signed by an authority not allowed for SBOMs", id: ghIdentity(), predType: attest.PredicateSPDX, predicate: spdxDoc,
			policy: twoSigners, check: attest.CheckRequireSBOM, rejCheck: attest.CheckIdentity, rejReason: "sbom.yml"},
		{name: "signed timestamp required and present", id: ghIdentity(), tsa: true, policy: sigPolicy + "timestamps: {threshold: 1}\n", pass: true},
		{name: "signed timestamp required but absent", id: ghIdentity(), policy: sigPolicy + "timestamps: {threshold: 1}\n",
			check: attest.CheckRequireSignature, rejCheck: attest.CheckTimestamp, rejReason: "signed timestamp"},
		{name: "SCTs required by default", id: ghIdentity(), policy: strings.Replace(sigPolicy, "sct: {unsafeSkip: true}\n", "", 1),
			check: attest.CheckRequireSignature, rejCheck: attest.CheckSCT, rejReason: "certificate timestamp"},
		{name: "a malformed SPDX predicate", id: ghIdentity(), predType: attest.PredicateSPDX, predicate: `{"name":"x"}`,
			policy: strings.Replace(sigPolicy, "{signature: true}", "{sbom: true}", 1), check: attest.CheckRequireSBOM, rejCheck: attest.CheckPredicate, rejReason: "no spdxVersion"},
		{name: "provenance without a builder", id: ghIdentity(), predType: attest.PredicateSLSAv1, predicate: `{"runDetails":{}}`,
			policy: strings.Replace(sigPolicy, "{signature: true}", "{provenance: true}", 1), check: attest.CheckRequireProvenance, rejCheck: attest.CheckPredicate, rejReason: "no builder id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, true)
			d := f.reg.PushImage(t, "acme/weather", "v1")
			pt, pred := c.predType, c.predicate
			if pt == "" {
				pt, pred = attest.PredicateCosignSign, `{}`
			}
			b := f.ss.KeylessDSSE(t, c.id, sigtest.Statement(d, pt, pred))
			if c.tsa {
				f.ss.AddTimestamp(t, b)
			}
			f.reg.AttachBundle(t, "acme/weather", d, sigtest.Marshal(t, b), nil)
			res := f.verify(f.reg.Ref("acme/weather", "v1"), c.policy)
			if c.pass {
				if !res.Passed {
					t.Fatalf("want pass:\n%s", res.Summary())
				}
				if c.tsa {
					var types []string
					for _, ts := range res.Items[0].Timestamps {
						types = append(types, ts.Type)
					}
					if !strings.Contains(strings.Join(types, ","), "TimestampAuthority") {
						t.Errorf("timestamps %v", types)
					}
				}
				return
			}
			wantFail(t, res, c.check, "", c.rejCheck, c.rejReason)
		})
	}
}
