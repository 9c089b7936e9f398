package attest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/vetted-dev/vetted/attest"
)

// ExampleVerify verifies an image against a policy the way the publish pipeline does: the
// tag is resolved once, every signature and attestation found is verified on its own, and
// the result names each failed check.
func ExampleVerify() {
	pol, err := attest.ParsePolicy([]byte(`
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
require: {signature: true, sbom: true, provenance: true}
tlog: {required: true}
builders: [https://github.com/actions/runner/github-hosted]
`))
	if err != nil {
		log.Fatal(err)
	}
	res, err := attest.Verify(context.Background(), "ghcr.io/acme/weather:1.0.0", pol,
		attest.WithTransport(http.DefaultTransport), // cmd passes the guarded transport
		attest.WithSourceRepository("https://github.com/acme/weather"),
	)
	if err != nil {
		log.Fatal(err) // could not verify at all: bad reference, registry unreachable
	}
	fmt.Print(res.Summary())
	if !res.Passed {
		for _, f := range res.Failures {
			fmt.Fprintf(os.Stderr, "%s: %s\n", f.Check, f.Reason)
		}
		return
	}
	// The verified evidence, for the rest of the pipeline.
	fmt.Println(res.Digest, res.Provenance.BuilderID, len(res.SBOM.Predicate))
}

// ExampleParsePolicy shows that policies are parsed strictly: a misspelt field is an error
// that names its path.
func ExampleParsePolicy() {
	_, err := attest.ParsePolicy([]byte(`
authorities:
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjet: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
`))
	fmt.Println(err)
	// Output: invalid policy: authorities[0].keyless.subjet: unknown field (known: extensions, issuer, subject, subjectRegExp, trustedRoot)
}
