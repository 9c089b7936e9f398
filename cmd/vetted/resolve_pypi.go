package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vetted-dev/vetted/attest/mcpb"
	"github.com/vetted-dev/vetted/registry"
)

// ResolvedFile is one verified file of a PyPI package.
type ResolvedFile struct {
	Filename string `json:"filename"`
	SHA256   string `json:"sha256"`
	URL      string `json:"url,omitempty"`
}

// resolvePkgExtra fills a PyPI or MCPB package from Vetted's _meta, refusing one whose pin
// does not match what server.json names.
func resolvePkgExtra(i int, p registry.PackageRef, pypis []registry.PyPIPackageMeta, bundles []registry.MCPBPackageMeta, rp *ResolvedPackage) error {
	switch p.RegistryType {
	case "pypi":
		for _, m := range pypis {
			if m.Index != i {
				continue
			}
			if m.Name != p.Identifier || m.Version != p.Version || len(m.Files) == 0 {
				return fmt.Errorf("packages[%d] %s==%s is not the verified PyPI release %s==%s", i, p.Identifier, p.Version, m.Name, m.Version)
			}
			rp.Version = m.Version
			hashes := make([]string, len(m.Files))
			for j, f := range m.Files {
				if !registry.ValidDigest(f.SHA256) {
					return fmt.Errorf("packages[%d] %s: file %s has no sha256 digest", i, p.Identifier, f.Filename)
				}
				rp.Files = append(rp.Files, ResolvedFile{Filename: f.Filename, SHA256: f.SHA256, URL: f.URL})
				hashes[j] = "--hash=" + f.SHA256
			}
			rp.Install = "uvx " + m.Name + "==" + m.Version
			rp.Requirement = m.Name + "==" + m.Version + " " + strings.Join(hashes, " ")
			return nil
		}
		return fmt.Errorf("packages[%d] %s carries no verified PyPI pin", i, p.Identifier)
	case "mcpb":
		for _, m := range bundles {
			if m.Index != i {
				continue
			}
			if m.URL != p.Identifier || m.FileSHA256 != p.FileSHA256 || mcpb.CheckSHA256(m.FileSHA256) != nil {
				return fmt.Errorf("packages[%d] %s (fileSha256 %s) is not the verified bundle %s (%s)", i, p.Identifier, p.FileSHA256, m.URL, m.FileSHA256)
			}
			rp.FileSHA256 = m.FileSHA256
			return nil
		}
		return fmt.Errorf("packages[%d] %s carries no verified MCPB pin", i, p.Identifier)
	}
	return nil
}

// printResolvedExtra prints a PyPI or MCPB package; false for other types.
func printResolvedExtra(e *env, p ResolvedPackage) bool {
	switch p.RegistryType {
	case "pypi":
		fmt.Fprintf(e.stdout, "  %-5s %s\n", p.RegistryType, p.Install)
		fmt.Fprintf(e.stdout, "        pip install --require-hashes -r requirements.txt, with the line:\n          %s\n", p.Requirement)
		for _, f := range p.Files {
			fmt.Fprintf(e.stdout, "        %s  %s\n", f.SHA256, f.Filename)
		}
		return true
	case "mcpb":
		fmt.Fprintf(e.stdout, "  %-5s %s  (fileSha256 %s)\n", p.RegistryType, p.Identifier, p.FileSHA256)
		return true
	}
	return false
}

// fetchPkg downloads a published PyPI release's verified files into the directory out, or
// an MCP bundle to the file out, writing nothing unless every byte matches what is served.
func fetchPkg(cmd *cobra.Command, e *env, kind string, r *Resolved, index int, out string) error {
	var pkgs []ResolvedPackage
	for _, p := range r.Packages {
		if p.RegistryType == kind {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return checkFailed(fmt.Errorf("fetch: %s@%s has no %s package", r.Name, r.Version, kind))
	}
	if index < 0 || index >= len(pkgs) {
		return usageErrorf("fetch: --package %d: %s@%s has %d %s packages", index, r.Name, r.Version, len(pkgs), kind)
	}
	p := pkgs[index]
	type item struct{ url, sha256, dst string }
	var items []item
	if kind == "mcpb" {
		items = []item{{p.Identifier, "sha256:" + p.FileSHA256, out}}
	} else {
		for _, f := range p.Files {
			if strings.ContainsAny(f.Filename, "/\\") || f.Filename == "" || f.Filename == "." || f.Filename == ".." {
				return checkFailed(fmt.Errorf("fetch: served file name %q is not a plain file name", f.Filename))
			}
			items = append(items, item{f.URL, f.SHA256, out + "/" + f.Filename})
		}
	}
	var urls []string
	for _, it := range items {
		urls = append(urls, it.url)
	}
	guard, err := cliGuard(e, "", nil, urls)
	if err != nil {
		return usageError(fmt.Errorf("fetch: %w", err))
	}
	bodies := make([][]byte, len(items))
	for i, it := range items {
		body, err := download(cmd, &http.Client{Transport: guard.RoundTripper()}, it.url)
		if err != nil {
			return checkFailed(fmt.Errorf("fetch: %w", err))
		}
		if got := registry.Digest(body); got != it.sha256 {
			return checkFailed(fmt.Errorf("fetch: %s refused: it hashes to %s, the registry verified and serves %s", it.url, got, it.sha256))
		}
		bodies[i] = body
	}
	if kind == "pypi" {
		if err := os.MkdirAll(out, 0o755); err != nil { // only once every file matched
			return fmt.Errorf("fetch: %w", err)
		}
	}
	for i, it := range items {
		if err := writeAtomic(it.dst, bodies[i]); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		fmt.Fprintf(e.stdout, "%s  %s\n  written to %s\n", it.url, it.sha256, it.dst)
	}
	return nil
}
