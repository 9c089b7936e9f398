package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/npm"
)

const fetchLong = `Fetch downloads the npm package tarball of a published server version and writes it only
if it matches what the registry verified and serves: the tarball's sha512 must equal the
served integrity and its sha256 the served (and attested) digest. It is the client's end of
the chain: what it writes is byte for byte what Vetted verified, scanned and vouched for.

NAME@VERSION is the server's name and version in the registry (as for vetted resolve). The
tarball is read from the URL the registry verified it at, or from --npm-registry BASE
(/NAME/-/…tgz is kept; only the origin changes) for a mirror.

fetch pypi downloads every verified file of the release from its served URL into the
directory -o DIR (created once every file matched its served sha256); fetch mcpb downloads
the bundle to -o FILE, checked against its served fileSha256. --package picks among the
version's packages of that type.

Exit status: 0 written; 1 not found, or a file does not match (nothing written); 2 bad
usage.`

func newFetchCmd(e *env) *cobra.Command {
	registryURL, token, out, npmRegistry, index := "", "", "", "", 0
	cmd := &cobra.Command{
		Use:   "fetch npm|pypi|mcpb NAME@VERSION --registry URL -o FILE|DIR",
		Short: "download a published npm package's tarball, refusing it unless it matches the served integrity",
		Long:  fetchLong,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "npm" && args[0] != "pypi" && args[0] != "mcpb" {
				return usageErrorf("fetch: only npm, pypi and mcpb packages can be fetched (got %q)", args[0])
			}
			name, version, _ := strings.Cut(args[1], "@")
			if !strings.Contains(name, "/") || version == "" {
				return usageErrorf("fetch: %q is not NAME@VERSION of a server (namespace/name@version)", args[1])
			}
			if out == "" {
				return usageErrorf("fetch: -o FILE is required")
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
			} else if args[0] != "npm" { // pypi, mcpb: resolve_pypi.go
				return fetchPkg(cmd, e, args[0], r, index, out)
			}
			var pkgs []ResolvedPackage
			for _, p := range r.Packages {
				if p.RegistryType == "npm" {
					pkgs = append(pkgs, p)
				}
			}
			if len(pkgs) == 0 {
				return checkFailed(fmt.Errorf("fetch: %s@%s has no npm package", r.Name, r.Version))
			}
			if index < 0 || index >= len(pkgs) {
				return usageErrorf("fetch: --package %d: %s@%s has %d npm packages", index, r.Name, r.Version, len(pkgs))
			}
			p := pkgs[index]
			src := p.TarballURL
			if npmRegistry != "" {
				if src, err = mirrorURL(src, npmRegistry); err != nil {
					return usageError(fmt.Errorf("fetch: %w", err))
				}
			}
			guard, err := cliGuard(e, "", nil, []string{src})
			if err != nil {
				return usageError(fmt.Errorf("fetch: %w", err))
			}
			body, err := download(cmd, &http.Client{Transport: guard.RoundTripper()}, src)
			if err != nil {
				return checkFailed(fmt.Errorf("fetch: %w", err))
			}
			d, err := npm.CheckIntegrity(body, p.Integrity)
			if err != nil {
				return checkFailed(fmt.Errorf("fetch: %s refused: %w", src, err))
			}
			if "sha256:"+d.SHA256 != p.Digest {
				return checkFailed(fmt.Errorf("fetch: %s refused: sha256:%s is not the attested digest %s", src, d.SHA256, p.Digest))
			}
			if err := writeAtomic(out, body); err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			fmt.Fprintf(e.stdout, "%s@%s  %s  %s\n  written to %s\n", p.Identifier, p.Version, p.Integrity, p.Digest, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&registryURL, "registry", "", "Vetted registry base URL (required)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token when the registry requires one (default $VETTED_TOKEN)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the verified tarball to")
	cmd.Flags().StringVar(&npmRegistry, "npm-registry", "", "read the tarball from this npm registry origin instead of the verified URL's")
	cmd.Flags().IntVar(&index, "package", 0, "which npm package of the version (0-based, among npm packages)")
	return cmd
}

// mirrorURL moves a tarball URL to another origin, keeping its path.
func mirrorURL(tarball, base string) (string, error) {
	i := strings.Index(tarball, "://")
	if i < 0 {
		return "", fmt.Errorf("tarball URL %q has no scheme", tarball)
	}
	rest := tarball[i+3:]
	j := strings.Index(rest, "/")
	if j < 0 {
		return "", fmt.Errorf("tarball URL %q has no path", tarball)
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return "", fmt.Errorf("--npm-registry %q is not an http(s) URL", base)
	}
	return strings.TrimRight(base, "/") + rest[j:], nil
}

// maxTarball bounds a fetched tarball, as the registry bounds what it verifies.
const maxTarball = 64 << 20

func download(cmd *cobra.Command, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTarball+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxTarball {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", u, maxTarball)
	}
	return body, nil
}

func writeAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".vetted-fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
