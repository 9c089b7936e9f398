package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/vsa"
	"github.com/vetted-dev/vetted/registry"
)

// vsaKeyPath is where a registry serves its attestation key (api.VSAKeyPath).
const vsaKeyPath = "/.well-known/dev.vetted/vsa-public-key.pem"

func newResolveCmd(e *env) *cobra.Command {
	var (
		registryURL, token, keyFile string
		asJSON, verify              bool
	)
	cmd := &cobra.Command{
		Use:   "resolve NAME[@VERSION] --registry URL",
		Short: "Print the pinned packages and tool manifest digest of a published server version",
		Long: `Resolve asks the registry for a published version (the latest when no version is given) and
prints every OCI package pinned by digest, every npm package as its exact install command
(npx -y NAME@VERSION) with the tarball's integrity, and the tool manifest digest.

--verify also checks the registry's signed verification summary attestation (DSSE, predicate
https://slsa.dev/verification_summary/v1): its signature with the registry's key (--vsa-key
FILE, else the key the registry serves at ` + vsaKeyPath + `), that it says PASSED,
and that its subjects are exactly the pinned image digests (npm: tarball sha256; PyPI: every
verified file's sha256; MCPB: fileSha256) and the tool manifest digest.

--json prints {"name","version","packages":[{"registryType","identifier","digest","version",
"integrity","tarballUrl","install"}],"toolManifestDigest",
"verified"} ("verified" only with --verify).
Exit status: 0 resolved (and verified), 1 not found or verification failed, 2 bad usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, _ := strings.Cut(args[0], "@")
			if version == "" {
				version = "latest"
			}
			if !strings.Contains(name, "/") {
				return usageErrorf("%q is not a server name (namespace/name)", name)
			}
			if token == "" {
				token = e.getenv("VETTED_TOKEN")
			}
			c, err := newRegClient(registryURL, token)
			if err != nil {
				return err
			}
			r, err := resolveVersion(cmd.Context(), c, name, version)
			if err != nil {
				return checkFailed(err)
			}
			if verify {
				if err := verifyResolved(cmd.Context(), c, r, keyFile); err != nil {
					if asJSON {
						r.Verified = new(bool)
						r.Error = err.Error()
						printResolvedJSON(e, r)
						return checkFailedSilently()
					}
					printResolved(e, r)
					return checkFailed(fmt.Errorf("attestation: %w", err))
				}
				ok := true
				r.Verified = &ok
			}
			if asJSON {
				printResolvedJSON(e, r)
				return nil
			}
			printResolved(e, r)
			return nil
		},
	}
	cmd.Flags().StringVar(&registryURL, "registry", "", "registry base URL (required)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token when the registry requires one (default $VETTED_TOKEN)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&verify, "verify", false, "verify the registry's signed attestation")
	cmd.Flags().StringVar(&keyFile, "vsa-key", "", "PEM public key of the registry (default: fetched from the registry)")
	return cmd
}

// Resolved is `vetted resolve --json`'s output.
type Resolved struct {
	Name               string            `json:"name"`
	Version            string            `json:"version"`
	Packages           []ResolvedPackage `json:"packages"`
	ToolManifestDigest string            `json:"toolManifestDigest,omitempty"`
	Verified           *bool             `json:"verified,omitempty"`
	Error              string            `json:"error,omitempty"`
	attestation        string
}

// ResolvedPackage is one pinned package (OCI by digest; npm by exact version and integrity).
type ResolvedPackage struct {
	RegistryType string `json:"registryType"`
	Identifier   string `json:"identifier"`
	Digest       string `json:"digest,omitempty"`
	// npm only: the exact version, the tarball's integrity and URL, and the install command.
	Version    string `json:"version,omitempty"`
	Integrity  string `json:"integrity,omitempty"`
	TarballURL string `json:"tarballUrl,omitempty"`
	Install    string `json:"install,omitempty"`
	// pypi only: every verified file and the hash-pinned requirement line; mcpb only: the
	// verified fileSha256.
	Files       []ResolvedFile `json:"files,omitempty"`
	Requirement string         `json:"requirement,omitempty"`
	FileSHA256  string         `json:"fileSha256,omitempty"`
}

func resolveVersion(ctx context.Context, c *regClient, name, version string) (*Resolved, error) {
	var resp struct {
		Server json.RawMessage `json:"server"`
		Meta   struct {
			Vetted *struct {
				ToolManifestDigest string `json:"toolManifestDigest"`
				Packages           []struct {
					Index  int    `json:"index"`
					Digest string `json:"digest"`
					Pinned string `json:"pinned"`
				} `json:"packages"`
				NPM []struct {
					Index      int    `json:"index"`
					Name       string `json:"name"`
					Version    string `json:"version"`
					Integrity  string `json:"integrity"`
					TarballURL string `json:"tarballUrl"`
				} `json:"npm"`
				PyPI  []registry.PyPIPackageMeta `json:"pypi"`
				MCPB  []registry.MCPBPackageMeta `json:"mcpb"`
				Links map[string]string          `json:"links"`
			} `json:"dev.vetted/verification"`
		} `json:"_meta"`
	}
	path := "/v0.1/servers/" + escapeSegment(name) + "/versions/" + escapeSegment(version)
	if err := c.getJSON(ctx, path, &resp); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, notPublished(ctx, c.base.String(), c.token, name, version)
		}
		return nil, err
	}
	// The served server.json goes through the same strict decoder as a publish: a document
	// with a case-variant, duplicate or unknown key has more than one meaning, and is refused.
	server, err := registry.ParseServerJSON(resp.Server)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: the served server.json is not one unambiguous document: %w", name, version, err)
	}
	if resp.Meta.Vetted == nil {
		return nil, fmt.Errorf("%s@%s carries no verification metadata: not a Vetted registry, or not verified", server.Name, server.Version)
	}
	r := &Resolved{Name: server.Name, Version: server.Version, ToolManifestDigest: resp.Meta.Vetted.ToolManifestDigest,
		attestation: resp.Meta.Vetted.Links["attestation"]}
	digests := map[int]string{}
	for _, p := range resp.Meta.Vetted.Packages {
		digests[p.Index] = p.Digest
	}
	for i, p := range server.Packages {
		rp := ResolvedPackage{RegistryType: p.RegistryType, Identifier: p.Identifier, Digest: digests[i]}
		if p.RegistryType == "oci" {
			_, d, ok := strings.Cut(p.Identifier, "@")
			if !ok || d != rp.Digest {
				return nil, fmt.Errorf("packages[%d] %s is not pinned to the verified digest %s", i, p.Identifier, rp.Digest)
			}
		}
		if p.RegistryType == "npm" {
			found := false
			for _, n := range resp.Meta.Vetted.NPM {
				if n.Index != i {
					continue
				}
				if n.Name != p.Identifier || n.Version != p.Version || !strings.HasPrefix(n.Integrity, "sha512-") {
					return nil, fmt.Errorf("packages[%d] %s@%s is not the verified npm package %s@%s", i, p.Identifier, p.Version, n.Name, n.Version)
				}
				rp.Version, rp.Integrity, rp.TarballURL = n.Version, n.Integrity, n.TarballURL
				rp.Install = "npx -y " + n.Name + "@" + n.Version
				found = true
			}
			if !found {
				return nil, fmt.Errorf("packages[%d] %s carries no verified npm pin", i, p.Identifier)
			}
		}
		if err := resolvePkgExtra(i, p, resp.Meta.Vetted.PyPI, resp.Meta.Vetted.MCPB, &rp); err != nil {
			return nil, err
		}
		r.Packages = append(r.Packages, rp)
	}
	return r, nil
}

func verifyResolved(ctx context.Context, c *regClient, r *Resolved, keyFile string) error {
	var pemBytes []byte
	var err error
	if keyFile != "" {
		if pemBytes, err = os.ReadFile(keyFile); err != nil {
			return usageErrorf("--vsa-key: %v", err)
		}
	} else if pemBytes, _, err = c.do(ctx, http.MethodGet, vsaKeyPath, nil, nil); err != nil {
		return fmt.Errorf("fetch the registry's attestation key: %w", err)
	}
	key, err := vsa.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		return err
	}
	path := r.attestation
	if path == "" {
		path = "/v0.1/x/dev.vetted/servers/" + escapeSegment(r.Name) + "/versions/" + escapeSegment(r.Version) + "/attestation"
	}
	env, _, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return fmt.Errorf("fetch the attestation: %w", err)
	}
	return checkVSA(env, key, r)
}

// checkVSA verifies the envelope and that its subjects are exactly the resolved digests.
func checkVSA(env []byte, key *ecdsa.PublicKey, r *Resolved) error {
	st, err := vsa.Verify(env, key)
	if err != nil {
		return err
	}
	if st.Predicate.VerificationResult != "PASSED" {
		return fmt.Errorf("the attestation says %q, not PASSED", st.Predicate.VerificationResult)
	}
	if want := "mcp:" + r.Name + "@" + r.Version; st.Predicate.ResourceURI != want {
		return fmt.Errorf("the attestation is about %q, not %q", st.Predicate.ResourceURI, want)
	}
	var want, got []string
	for _, p := range r.Packages {
		if p.RegistryType == "pypi" && len(p.Files) > 0 {
			for _, f := range p.Files { // every verified file of a PyPI release is a subject
				want = append(want, f.SHA256)
			}
			continue
		}
		if p.Digest != "" {
			want = append(want, p.Digest)
		}
	}
	if r.ToolManifestDigest != "" {
		want = append(want, r.ToolManifestDigest)
	}
	for _, s := range st.Subject {
		got = append(got, "sha256:"+s.Digest["sha256"])
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		return fmt.Errorf("the attestation's subjects %v are not the resolved digests %v", got, want)
	}
	return nil
}

func printResolved(e *env, r *Resolved) {
	fmt.Fprintf(e.stdout, "%s@%s\n", r.Name, r.Version)
	for _, p := range r.Packages {
		if printResolvedExtra(e, p) {
			continue
		}
		if p.RegistryType == "npm" {
			fmt.Fprintf(e.stdout, "  %-5s %s  (integrity %s)\n", p.RegistryType, p.Install, p.Integrity)
			continue
		}
		fmt.Fprintf(e.stdout, "  %-5s %s\n", p.RegistryType, p.Identifier)
	}
	if r.ToolManifestDigest != "" {
		fmt.Fprintf(e.stdout, "  tools %s\n", r.ToolManifestDigest)
	}
	if r.Verified != nil && *r.Verified {
		fmt.Fprintln(e.stdout, "  attestation verified (registry signature, PASSED, subjects match)")
	}
}

func printResolvedJSON(e *env, r *Resolved) {
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Fprintln(e.stdout, string(b))
}
