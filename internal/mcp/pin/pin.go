// Package pin loads the pinned tool manifest that `vetted check` and `vetted proxy` hold
// a running MCP server to: from a file, or from a Vetted registry, where the manifest of a
// published version is served at
//
//	GET {registry}/v0.1/x/dev.vetted/servers/{url-escaped name}/versions/{version}/tools
//
// with the manifest digest as its ETag. The digest is recomputed here and must match: a
// registry (or anything in between) cannot hand out a manifest other than the one it names.
package pin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
)

// ErrDigestMismatch is returned when the served manifest does not hash to its ETag.
var ErrDigestMismatch = errors.New("pinned manifest does not match its digest")

// ErrNotFound is returned when the registry has no manifest for the version.
var ErrNotFound = errors.New("no tool manifest for this server version")

// Load reads a pin from a manifest file.
func Load(path string) (*toolmanifest.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, toolmanifest.MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	m, err := toolmanifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// URL returns the registry URL of a version's tool manifest.
func URL(registry, name, version string) (string, error) {
	u, err := url.Parse(registry)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("registry URL %q: want an http(s) URL", registry)
	}
	if name == "" || version == "" {
		return "", errors.New("server name and version are required")
	}
	return strings.TrimSuffix(u.String(), "/") + "/v0.1/x/dev.vetted/servers/" + url.PathEscape(name) +
		"/versions/" + url.PathEscape(version) + "/tools", nil
}

// Fetch downloads a version's pinned manifest from a registry and verifies it against the
// digest in the ETag header. client may be nil; token, when set, is sent as a bearer token.
func Fetch(ctx context.Context, client *http.Client, registry, name, version, token string) (*toolmanifest.Manifest, error) {
	u, err := URL(registry, name, version)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching pin from %s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s@%s (GET %s: 404)", ErrNotFound, name, version, u)
	case resp.StatusCode != http.StatusOK:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("fetching pin: GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, toolmanifest.MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching pin: reading %s: %w", u, err)
	}
	m, err := toolmanifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("pin from %s: %w", u, err)
	}
	etag := strings.Trim(strings.TrimPrefix(resp.Header.Get("ETag"), "W/"), `"`)
	if etag == "" {
		return nil, fmt.Errorf("%w: %s served no ETag; cannot verify the manifest digest", ErrDigestMismatch, u)
	}
	if etag != m.Digest {
		return nil, fmt.Errorf("%w: ETag says %s, the served manifest hashes to %s", ErrDigestMismatch, etag, m.Digest)
	}
	return m, nil
}

// SplitNameVersion splits NAME@VERSION at its last '@'.
func SplitNameVersion(s string) (name, version string, err error) {
	i := strings.LastIndex(s, "@")
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("--server %q: want NAME@VERSION", s)
	}
	return s[:i], s[i+1:], nil
}
