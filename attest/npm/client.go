package npm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// DefaultRegistry is the public npm registry.
const DefaultRegistry = "https://registry.npmjs.org"

// Errors a fetch wraps.
var (
	// ErrNotFound: the registry has no such package version.
	ErrNotFound = errors.New("npm package version not found")
	// ErrRegistry: the registry answered something unusable (status, malformed document,
	// name or version other than asked).
	ErrRegistry = errors.New("bad npm registry response")
	// ErrLimit: a document or the tarball broke a bound.
	ErrLimit = errors.New("npm registry content exceeds a limit")
)

// Limits bound what is read from a registry.
type Limits struct {
	// MaxDocumentBytes caps the version document and the attestations document (default 4 MiB).
	MaxDocumentBytes int64
	// MaxTarballBytes caps the tarball (default 64 MiB).
	MaxTarballBytes int64
	// Timeout bounds the whole fetch (default 2 minutes).
	Timeout time.Duration
}

// DefaultLimits are used for zero fields.
var DefaultLimits = Limits{MaxDocumentBytes: 4 << 20, MaxTarballBytes: 64 << 20, Timeout: 2 * time.Minute}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxDocumentBytes > 0 {
		d.MaxDocumentBytes = l.MaxDocumentBytes
	}
	if l.MaxTarballBytes > 0 {
		d.MaxTarballBytes = l.MaxTarballBytes
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	return d
}

// Options configure a Client.
type Options struct {
	// Transport carries every request (the guarded outbound transport); default
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure lists hosts (host[:port]) that may be reached over plain HTTP; loopback
	// always may.
	Insecure []string
	Limits   Limits
	Logger   *slog.Logger
}

// Client fetches package versions from npm registries.
type Client struct {
	hc       *http.Client
	insecure map[string]bool
	limits   Limits
	log      *slog.Logger
}

// New returns a Client.
func New(o Options) *Client {
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	ins := map[string]bool{}
	for _, h := range o.Insecure {
		ins[h] = true
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{insecure: ins, limits: o.Limits.withDefaults(), log: log}
	c.hc = &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return c.checkURL(req.URL)
	}}
	return c
}

// Limits returns the limits in force.
func (c *Client) Limits() Limits { return c.limits }

// Package is one fetched package version. Tarball has not been checked against Integrity:
// the caller does that, so that a mismatch is a named rejection.
type Package struct {
	Registry        string
	Name            string
	Version         string
	TarballURL      string
	Integrity       string
	AttestationsURL string
	Tarball         []byte
	// Attestations is the attestations document; nil when the registry lists none.
	Attestations []byte
}

type versionDoc struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Dist    struct {
		Tarball      string `json:"tarball"`
		Integrity    string `json:"integrity"`
		Attestations *struct {
			URL string `json:"url"`
		} `json:"attestations"`
	} `json:"dist"`
}

// Fetch reads name@version's version document from the registry at base, then its tarball
// (bounded) and, when the registry lists one, its attestations document. Only an exact
// version is accepted. Nothing is retried on another URL.
func (c *Client) Fetch(ctx context.Context, base, name, version string) (*Package, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := ValidateVersion(version); err != nil {
		return nil, err
	}
	reg, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (reg.Scheme != "http" && reg.Scheme != "https") || reg.Host == "" || reg.RawQuery != "" || reg.Fragment != "" {
		return nil, fmt.Errorf("%w: registry URL %q is not an http(s) base URL", ErrSpec, base)
	}
	if err := c.checkURL(reg); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.limits.Timeout)
	defer cancel()
	docURL := reg.String() + "/" + strings.Replace(url.PathEscape(name), "%40", "@", 1) + "/" + url.PathEscape(version)
	raw, status, err := c.get(ctx, docURL, c.limits.MaxDocumentBytes, "version document of "+name+"@"+version)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("%w: %s@%s at %s", ErrNotFound, name, version, reg)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrRegistry, docURL, status)
	}
	if err := intoto.CheckStrictJSON(raw); err != nil {
		return nil, fmt.Errorf("%w: version document: %v", ErrRegistry, err)
	}
	var doc versionDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%w: version document: %v", ErrRegistry, err)
	}
	if doc.Name != name || doc.Version != version {
		return nil, fmt.Errorf("%w: asked for %s@%s, the registry answered %s@%s", ErrRegistry, name, version, doc.Name, doc.Version)
	}
	if doc.Dist.Integrity == "" {
		return nil, fmt.Errorf("%w: %s@%s has no dist.integrity", ErrRegistry, name, version)
	}
	p := &Package{Registry: reg.String(), Name: name, Version: version, TarballURL: doc.Dist.Tarball, Integrity: doc.Dist.Integrity}
	tu, err := url.Parse(doc.Dist.Tarball)
	if err != nil || tu.Host == "" {
		return nil, fmt.Errorf("%w: dist.tarball %q is not a URL", ErrRegistry, doc.Dist.Tarball)
	}
	if err := c.checkURL(tu); err != nil {
		return nil, fmt.Errorf("%w: dist.tarball: %v", ErrRegistry, err)
	}
	if p.Tarball, status, err = c.get(ctx, tu.String(), c.limits.MaxTarballBytes, "tarball of "+name+"@"+version); err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrRegistry, tu, status)
	}
	if a := doc.Dist.Attestations; a != nil && a.URL != "" {
		au, err := url.Parse(a.URL)
		if err != nil || au.Host == "" {
			return nil, fmt.Errorf("%w: dist.attestations.url %q is not a URL", ErrRegistry, a.URL)
		}
		if err := c.checkURL(au); err != nil {
			return nil, fmt.Errorf("%w: dist.attestations.url: %v", ErrRegistry, err)
		}
		p.AttestationsURL = au.String()
		body, status, err := c.get(ctx, au.String(), c.limits.MaxDocumentBytes, "attestations of "+name+"@"+version)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			// Listed but not served: fail closed rather than verify without it.
			return nil, fmt.Errorf("%w: GET %s: status %d (the version document lists attestations)", ErrRegistry, au, status)
		}
		p.Attestations = body
	}
	return p, nil
}

// LimitError says which bound was broken.
type LimitError struct {
	What  string
	Limit int64
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s: more than %d bytes", e.What, e.Limit) }
func (e *LimitError) Unwrap() error { return ErrLimit }

func (c *Client) get(ctx context.Context, u string, limit int64, what string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	req.Header.Set("Accept", "application/json, application/octet-stream;q=0.9, */*;q=0.1")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("npm: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, 0, &LimitError{What: what, Limit: limit}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("npm: GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, 0, &LimitError{What: what, Limit: limit}
	}
	c.log.Debug("npm fetch", slog.String("url", u), slog.Int("status", resp.StatusCode), slog.Int("bytes", len(body)))
	return body, resp.StatusCode, nil
}

// checkURL allows https anywhere and plain http only to loopback or listed hosts.
func (c *Client) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if c.insecure[u.Host] || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http to %s is not allowed (only loopback or an insecure-listed host)", u.Host)
	}
	return fmt.Errorf("scheme %q is not http(s)", u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
