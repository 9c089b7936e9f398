package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/internal/netguard"
)

const verifyLong = `Verify the signatures, SBOM, provenance and tool-manifest attestations of an OCI image
or an npm package against a policy file, the way the registry does at publish time.

  vetted verify IMAGE --policy P [--json]
  vetted verify npm:NAME@VERSION --policy P [--npm-registry URL] [--json]
  vetted verify npm:NAME@VERSION --tarball FILE --attestations FILE [--evidence FILE...] --policy P [--json]
  vetted verify pypi:NAME@VERSION --artifact FILE --attestations FILE [--artifact FILE --attestations FILE...] [--evidence FILE...] --policy P [--json]
  vetted verify pypi:NAME@VERSION [--pypi-index URL] [--distributions all|any-wheel|sdist] [--evidence FILE...] --policy P [--json]
  vetted verify mcpb:URL --sha256 HEX [--artifact FILE] --evidence FILE [--evidence FILE...] --policy P [--json]

An npm package is named by an exact version (dist-tags and ranges are refused). From a
registry, Vetted reads the version document, downloads the tarball (bounded) and checks it
against dist.integrity byte for byte, then verifies the registry's attestations document:
npm's publish attestation against npm's registry keys (shipped; --npm-keys replaces them
with a /-/npm/v1/keys document), the SLSA provenance against the policy, both bound to
pkg:npm/NAME@VERSION with the tarball's sha512. Offline, --tarball and --attestations give
the same files. --evidence adds publisher-supplied Sigstore bundles bound to the tarball.
Any attestation or bundle present that does not verify refuses the package. A NAME@VERSION
other than the attestations' subject is a refusal (exit 1).

A PyPI release is verified offline from its files: each --artifact (wheel or sdist) with its
--attestations document, paired in order: PyPI's provenance object (Integrity API) or a single
PEP 740 attestation. Each attestation becomes a Sigstore bundle verified keyless against the
policy, its subject the file's name and sha256; the provenance object's Trusted Publisher
must be the signing identity (check "publisher"); the file name must carry NAME (PEP 503
normalized) and VERSION (check "filename"). Every artifact must pass; with --json the output
is {"ref", "passed", "results": [result per artifact]}. Resolution from an index is not
implemented yet.

The reference is resolved to a digest once; everything is verified against that digest.
Signatures and attestations are found through the OCI 1.1 referrers API (or its tag
fallback) and cosign's sha256-<hex>.sig / .att tags, and verified with sigstore-go.

Exit status: 0 when the image passes the policy; 1 when it does not (each failed check is
named) or when verification could not be carried out; 2 for bad usage or input (a bad
reference, an unreadable or invalid policy).

--json prints the result object: {ref, repository, artifact{type, name, version, locator,
digests}, digest, verifiedAt, passed,
failures[{check, reason}], items[{kind, candidate, authority, signerIdentity, issuer,
certificate, logEntries, timestamps, predicateType, subjectDigest, blobDigest,
annotations}], rejected[{candidate,
check, reason}], provenance{predicateType, builderId, buildType, sourceRepository, commit,
ref, workflow, trigger, runner}, sbom, provenancePredicate, toolManifest
({predicateType, item, predicate})}. For npm, digest is "sha512:<hex>", artifact.digests
holds sha512 and sha256, and items include npm's publish attestation (kind "publish").
Check names are stable: resolve, integrity, discovery, bundle,
statement, subject, authority, identity, certificate, sct, tlog, timestamp, key, signature,
predicate, builder, source-repository, ref, filename, publisher, require.signature, require.sbom,
require.provenance, require.tools.`

func newVerifyCmd(e *env) *cobra.Command {
	var (
		policyFile string
		asJSON     bool
		insecure   []string
		sourceRepo string
		npmFlags   npmVerifyFlags
		pkgFlags   pkgVerifyFlags
	)
	cmd := &cobra.Command{
		Use:   "verify IMAGE|npm:NAME@VERSION|pypi:NAME@VERSION|mcpb:URL --policy FILE [--json]",
		Short: "verify an OCI image, an npm package, a PyPI release or an MCP bundle against a policy",
		Long:  verifyLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := args[0]
			if policyFile == "" {
				return usageErrorf("verify: --policy is required")
			}
			if spec, ok := strings.CutPrefix(ref, "npm:"); ok {
				return runVerifyNPM(cmd, e, spec, policyFile, sourceRepo, asJSON, &npmFlags)
			}
			if spec, ok := strings.CutPrefix(ref, "pypi:"); ok {
				return runVerifyPyPI(cmd, e, spec, policyFile, sourceRepo, asJSON, &npmFlags, &pkgFlags)
			}
			if u, ok := strings.CutPrefix(ref, "mcpb:"); ok {
				return runVerifyMCPB(cmd, e, u, policyFile, sourceRepo, asJSON, &npmFlags, &pkgFlags)
			}
			if npmFlags.used() || pkgFlags.used() {
				return usageErrorf("verify: --tarball, --attestations, --artifact, --evidence, --npm-registry and --npm-keys are for npm:NAME@VERSION or pypi:NAME@VERSION")
			}
			if _, err := name.ParseReference(ref); err != nil {
				return usageErrorf("verify: bad image reference %q: %v", ref, err)
			}
			pol, err := policy.ParseFile(policyFile)
			if err != nil {
				return usageError(fmt.Errorf("verify: %w", err))
			}
			opts := []attest.Option{attest.WithInsecureRegistries(insecure...)}
			if sourceRepo != "" {
				opts = append(opts, attest.WithSourceRepository(sourceRepo))
			}
			guard, err := cliGuard(e, "", nil, append([]string{ref}, insecure...), netguard.AllowPlainHTTP(insecure...))
			if err != nil {
				return usageError(fmt.Errorf("verify: %w", err))
			}
			opts = append(opts, attest.WithTransport(guard.RoundTripper()))
			res, err := attest.Verify(cmd.Context(), ref, pol, opts...)
			if err != nil {
				if errors.Is(err, policy.ErrInvalid) {
					return usageError(fmt.Errorf("verify: %w", err))
				}
				return fmt.Errorf("verify: %w", err)
			}
			return printVerifyResult(e, ref, res, asJSON)
		},
	}
	npmFlags.register(cmd)
	pkgFlags.register(cmd)
	cmd.Flags().StringVar(&policyFile, "policy", "", "policy file (YAML); key and trusted-root paths are relative to it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verification result as JSON")
	cmd.Flags().StringSliceVar(&insecure, "insecure-registry", nil, "registry (host:port) that may be reached over plain HTTP (loopback always may)")
	cmd.Flags().StringVar(&sourceRepo, "source-repository", "", "repository URL the server claims (server.json repository.url); provenance must match it")
	return cmd
}

// printVerifyResult prints a result (JSON or summary) and turns a failure into exit 1.
func printVerifyResult(e *env, ref string, res *attest.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprint(e.stdout, res.Summary())
	}
	if !res.Passed {
		fmt.Fprintf(e.stderr, "verify: %s failed: %s\n", ref, strings.Join(res.FailedChecks(), ", "))
		return checkFailedSilently()
	}
	return nil
}
