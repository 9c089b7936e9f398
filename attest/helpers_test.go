package attest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

const (
	ghIssuer   = "https://token.actions.githubusercontent.com"
	ghWorkflow = "https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main"
	ghRepo     = "https://github.com/acme/weather"
	spdxDoc    = `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"weather","packages":[]}`
	slsaV1     = `{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1","externalParameters":{"workflow":{"ref":"refs/heads/main","repository":"https://github.com/acme/weather","path":".github/workflows/release.yml"}},"internalParameters":{"github":{"event_name":"push","runner_environment":"github-hosted"}},"resolvedDependencies":[{"uri":"git+https://github.com/acme/weather@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"}}}`
	toolsDoc   = `{"tools":[{"name":"forecast"}]}`
)

func ghIdentity() sigtest.Identity {
	return sigtest.Identity{SAN: ghWorkflow, Issuer: ghIssuer, Extensions: map[int]string{
		sigtest.ExtSourceRepositoryURI: ghRepo,
		sigtest.ExtSourceRepositoryRef: "refs/heads/main",
		sigtest.ExtBuildSignerURI:      ghWorkflow,
		sigtest.ExtRunnerEnvironment:   "github-hosted",
		sigtest.ExtBuildTrigger:        "push",
		sigtest.ExtSourceRepoDigest:    "0123456789abcdef0123456789abcdef01234567",
	}}
}

// keylessPolicy trusts the GitHub release workflow identity; the virtual Sigstore has no CT
// log, so SCTs are skipped explicitly.
const keylessPolicy = `
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
require: {signature: true, sbom: true, provenance: true, tools: true}
tlog: {required: true}
sct: {unsafeSkip: true}
`

type fixture struct {
	t   *testing.T
	ss  *sigtest.Sigstore
	reg *sigtest.Registry
}

func newFixture(t *testing.T, referrers bool) *fixture {
	t.Helper()
	return &fixture{t: t, ss: sigtest.New(t), reg: sigtest.NewRegistry(t, referrers, nil)}
}

func mustPolicy(t *testing.T, y string) *attest.Policy {
	t.Helper()
	p, err := attest.ParsePolicy([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// attachKeyless signs a statement of predicateType about digest and attaches it as a referrer.
func (f *fixture) attachKeyless(repo, digest string, id sigtest.Identity, predicateType, predicate string) {
	f.t.Helper()
	b := f.ss.KeylessDSSE(f.t, id, sigtest.Statement(digest, predicateType, predicate))
	f.reg.AttachBundle(f.t, repo, digest, sigtest.Marshal(f.t, b), map[string]string{"dev.sigstore.bundle.predicateType": predicateType})
}

func (f *fixture) verify(ref string, pol string, opts ...attest.Option) *attest.Result {
	f.t.Helper()
	opts = append([]attest.Option{attest.WithTrustedMaterial(f.ss.TrustedMaterial())}, opts...)
	res, err := attest.Verify(context.Background(), ref, mustPolicy(f.t, pol), opts...)
	if err != nil {
		f.t.Fatalf("Verify: %v", err)
	}
	return res
}

// wantFail asserts the result failed check with a reason containing reason, and, when
// rejCheck is set, that some candidate was rejected by rejCheck with rejReason.
func wantFail(t *testing.T, res *attest.Result, check, reason, rejCheck, rejReason string) {
	t.Helper()
	if res.Passed {
		t.Fatalf("passed, want failure %s\n%s", check, res.Summary())
	}
	found := false
	for _, f := range res.Failures {
		if f.Check == check && strings.Contains(f.Reason, reason) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no failure %s containing %q\n%s", check, reason, res.Summary())
	}
	if rejCheck == "" {
		return
	}
	for _, r := range res.Rejected {
		if r.Check == rejCheck && strings.Contains(r.Reason, rejReason) {
			return
		}
	}
	t.Fatalf("no rejection %s containing %q\n%s", rejCheck, rejReason, res.Summary())
}
