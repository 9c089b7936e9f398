package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Options configure a Client.
type Options struct {
	// Transport carries every request (the guarded outbound transport); default
	// http.DefaultTransport. It is wrapped so that plain HTTP only reaches loopback or Insecure.
	Transport http.RoundTripper
	// Keychain finds registry credentials; default authn.DefaultKeychain (anonymous when
	// nothing is configured).
	Keychain authn.Keychain
	// Insecure lists registries (host[:port]) that may be reached over plain HTTP.
	Insecure []string
	// Limits bound what is read.
	Limits Limits
	// Logger receives debug logs; default discards.
	Logger *slog.Logger
}

// Client fetches from OCI registries within limits.
type Client struct {
	rt       http.RoundTripper
	keychain authn.Keychain
	insecure map[string]bool
	limits   Limits
	log      *slog.Logger

	mu    sync.Mutex
	repos map[string]http.RoundTripper
}

// New returns a Client.
func New(o Options) *Client {
	base := o.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	ins := map[string]bool{}
	for _, r := range o.Insecure {
		ins[r] = true
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		rt:       &schemeGuard{next: base, insecure: ins},
		keychain: kc,
		insecure: ins,
		limits:   o.Limits.withDefaults(),
		log:      log,
		repos:    map[string]http.RoundTripper{},
	}
}

// Limits returns the limits in force.
func (c *Client) Limits() Limits { return c.limits }

// Image is a resolved image: from here on everything is keyed by Digest.
type Image struct {
	// Ref is the reference as given.
	Ref string `json:"ref"`
	// Repository is registry/repository.
	Repository string `json:"repository"`
	// Digest is the manifest digest ("sha256:<hex>") the reference resolved to.
	Digest string `json:"digest"`
	// MediaType is the manifest's media type.
	MediaType string `json:"mediaType"`

	repo name.Repository
}

// ParseReference parses an image reference, honouring the insecure list and loopback.
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		r, err = name.ParseReference(ref)
	}
	if err != nil {
		return nil, fmt.Errorf("oci: %w", err)
	}
	reg := r.Context().RegistryStr()
	if c.insecure[reg] || isLoopback(reg) {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

func (c *Client) scheme(repo name.Repository) string {
	reg := repo.RegistryStr()
	if c.insecure[reg] || isLoopback(reg) {
		return "http"
	}
	return "https"
}

func (c *Client) transport(ctx context.Context, repo name.Repository) (http.RoundTripper, error) {
	key := repo.String()
	c.mu.Lock()
	rt, ok := c.repos[key]
	c.mu.Unlock()
	if ok {
		return rt, nil
	}
	auth, err := c.keychain.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("oci: credentials for %s: %w", repo, err)
	}
	rt, err = transport.NewWithContext(ctx, repo.Registry, auth, c.rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, fmt.Errorf("oci: %s: %w", repo.RegistryStr(), err)
	}
	c.mu.Lock()
	c.repos[key] = rt
	c.mu.Unlock()
	return rt, nil
}

// ErrNotFound marks a 404: an absent tag, manifest or blob.
var ErrNotFound = errors.New("not found")

// statusError is a non-200, non-404 answer.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }
func (e *statusError) Unwrap() error { return ErrRegistry }

// get fetches url and returns at most limit bytes; a longer body is a LimitError.
func (c *Client) get(ctx context.Context, repo name.Repository, url string, accept []string, limit int64, what string) ([]byte, http.Header, error) {
	rt, err := c.transport(ctx, repo)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("oci: %w", err)
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("oci: %s: %w", what, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, resp.Header, fmt.Errorf("oci: %s: %w", what, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, resp.Header, fmt.Errorf("oci: %s: %w", what, &statusError{code: resp.StatusCode})
	}
	if resp.ContentLength > limit {
		return nil, nil, &LimitError{What: what, Limit: limit, Got: resp.ContentLength, Unit: "bytes"}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("oci: %s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, nil, &LimitError{What: what, Limit: limit, Got: -1, Unit: "bytes"}
	}
	return data, resp.Header, nil
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

var manifestAccept = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// manifest fetches a manifest by tag or digest. By digest, the body must hash to it.
func (c *Client) manifest(ctx context.Context, repo name.Repository, ref string) ([]byte, string, error) {
	if strings.Contains(ref, ":") && !strings.HasPrefix(ref, "sha256:") {
		return nil, "", fmt.Errorf("oci: manifest %s: %w: only sha256 digests are supported", ref, ErrRegistry)
	}
	url := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", c.scheme(repo), repo.RegistryStr(), repo.RepositoryStr(), ref)
	data, hdr, err := c.get(ctx, repo, url, manifestAccept, c.limits.MaxManifestBytes, "manifest "+ref)
	if err != nil {
		return nil, "", err
	}
	got := sha256Digest(data)
	if strings.HasPrefix(ref, "sha256:") && got != ref {
		return nil, "", fmt.Errorf("oci: manifest %s: %w: content hashes to %s", ref, ErrRegistry, got)
	}
	if h := hdr.Get("Docker-Content-Digest"); h != "" && strings.HasPrefix(h, "sha256:") && h != got {
		return nil, "", fmt.Errorf("oci: manifest %s: %w: Docker-Content-Digest %s but content hashes to %s", ref, ErrRegistry, h, got)
	}
	return data, got, nil
}

// blob fetches a blob by digest, refusing it when the descriptor's size or the body exceeds
// the blob limit, and checking the content against the digest.
func (c *Client) blob(ctx context.Context, repo name.Repository, digest string, size int64) ([]byte, error) {
	what := "blob " + digest
	if size > c.limits.MaxBlobBytes {
		return nil, &LimitError{What: what, Limit: c.limits.MaxBlobBytes, Got: size, Unit: "bytes"}
	}
	if !strings.HasPrefix(digest, "sha256:") {
		return nil, fmt.Errorf("oci: %s: %w: only sha256 digests are supported", what, ErrRegistry)
	}
	url := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", c.scheme(repo), repo.RegistryStr(), repo.RepositoryStr(), digest)
	data, _, err := c.get(ctx, repo, url, nil, c.limits.MaxBlobBytes, what)
	if err != nil {
		return nil, err
	}
	if got := sha256Digest(data); got != digest {
		return nil, fmt.Errorf("oci: %s: %w: content hashes to %s", what, ErrRegistry, got)
	}
	return data, nil
}

// Resolve turns ref into a digest, once. A reference that already names a digest is checked
// against the manifest content.
func (c *Client) Resolve(ctx context.Context, ref string) (*Image, error) {
	r, err := c.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.limits.Timeout)
	defer cancel()
	data, digest, err := c.manifest(ctx, r.Context(), r.Identifier())
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("oci: %s: %w", ref, err)
	}
	c.log.Debug("resolved", slog.String("ref", ref), slog.String("digest", digest))
	return &Image{Ref: ref, Repository: r.Context().Name(), Digest: digest, MediaType: m.MediaType, repo: r.Context()}, nil
}
