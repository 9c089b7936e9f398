package pypi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// DefaultIndex is the public Python Package Index.
const DefaultIndex = "https://pypi.org"

// Media types of the simple repository API (PEP 691) and the Integrity API (PEP 740).
const (
	SimpleJSON    = "application/vnd.pypi.simple.v1+json"
	SimpleHTML    = "application/vnd.pypi.simple.v1+html"
	IntegrityJSON = "application/vnd.pypi.integrity.v1+json"
)

// Errors a fetch wraps.
var (
	// ErrNotFound: the index has no such project or no file of the version.
	ErrNotFound = errors.New("pypi release not found")
	// ErrIndex: the index answered something unusable (status, malformed page, a file
	// without a sha256).
	ErrIndex = errors.New("bad pypi index response")
	// ErrLimit: a page or a file broke a bound.
	ErrLimit = errors.New("pypi index content exceeds a limit")
	// ErrYanked: a file of the release is yanked.
	ErrYanked = errors.New("pypi release is yanked")
	// ErrHash: a downloaded file does not match the sha256 the index lists for it.
	ErrHash = errors.New("pypi file does not match its index sha256")
)

// Limits bound what is read from an index.
type Limits struct {
	// MaxPageBytes caps the project page and a provenance object (default 8 MiB).
	MaxPageBytes int64
	// MaxFileBytes caps one distribution file (default 64 MiB).
	MaxFileBytes int64
	// MaxFiles caps the files of one release (default 64).
	MaxFiles int
	// Timeout bounds the whole fetch (default 3 minutes).
	Timeout time.Duration
}

// DefaultLimits are used for zero fields.
var DefaultLimits = Limits{MaxPageBytes: 8 << 20, MaxFileBytes: 64 << 20, MaxFiles: 64, Timeout: 3 * time.Minute}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxPageBytes > 0 {
		d.MaxPageBytes = l.MaxPageBytes
	}
	if l.MaxFileBytes > 0 {
		d.MaxFileBytes = l.MaxFileBytes
	}
	if l.MaxFiles > 0 {
		d.MaxFiles = l.MaxFiles
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	return d
}

// ClientOptions configure an index Client.
type ClientOptions struct {
	// Transport carries every request (the guarded outbound transport); default
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure lists hosts (host[:port]) that may be reached over plain HTTP; loopback
	// always may.
	Insecure []string
	Limits   Limits
	Logger   *slog.Logger
}

// Client reads releases from PEP 503/691 simple indexes.
type Client struct {
	hc       *http.Client
	insecure map[string]bool
	limits   Limits
	log      *slog.Logger
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c := &Client{insecure: map[string]bool{}, limits: o.Limits.withDefaults(), log: o.Logger}
	for _, h := range o.Insecure {
		c.insecure[h] = true
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.hc = &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return c.checkURL(req.URL)
	}}
	return c
}

// File is one distribution of a release as the index lists it, and its bytes once
// downloaded and checked.
type File struct {
	Filename string
	URL      string
	// SHA256 is the index's hex sha256 of the file; Data hashes to it.
	SHA256 string
	// ProvenanceURL is where the file's PEP 740 provenance object is (the page's
	// "provenance" key, else the index's Integrity API).
	ProvenanceURL string
	Data          []byte
	// Provenance is the provenance object; nil when the index has none for the file.
	Provenance []byte
}

// Release is one project version read from an index.
type Release struct {
	Index   string
	Project string
	Version string
	// PageURL is the project page the files were listed on.
	PageURL string
	Files   []File
}

// IndexRoot returns the index's root URL (no "/simple" suffix, no trailing slash) for base,
// an index root ("https://pypi.org") or its simple API ("https://pypi.org/simple/").
func IndexRoot(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: index URL %q is not an http(s) base URL", ErrSpec, base)
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	p = strings.TrimSuffix(p, "/simple")
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + p, nil
}

// Fetch lists project's files from the index at base (PEP 691 JSON, or the PEP 503 HTML
// page), keeps those of exactly version, and downloads each whose name want accepts
// (nil: every file) — bounded, and checked against the index's sha256 — with its
// provenance object when the index has one. A release with no files, a yanked file and a
// hash mismatch are errors naming the file (ErrNotFound, ErrYanked, ErrHash). Nothing is
// retried on another URL.
func (c *Client) Fetch(ctx context.Context, base, project, version string, want func(filename string) bool) (*Release, error) {
	if err := ValidateName(project); err != nil {
		return nil, err
	}
	if err := ValidateVersion(version); err != nil {
		return nil, err
	}
	root, err := IndexRoot(base)
	if err != nil {
		return nil, err
	}
	ru, _ := url.Parse(root)
	if err := c.checkURL(ru); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.limits.Timeout)
	defer cancel()
	page := root + "/simple/" + Normalize(project) + "/"
	body, status, ctype, err := c.get(ctx, page, SimpleJSON+", "+SimpleHTML+";q=0.2, text/html;q=0.01", c.limits.MaxPageBytes, "project page of "+project)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("%w: project %s at %s", ErrNotFound, project, root)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrIndex, page, status)
	}
	entries, err := ParseProjectPage(body, ctype, project)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrIndex, page, err)
	}
	pu, _ := url.Parse(page)
	rel := &Release{Index: root, Project: project, Version: version, PageURL: page}
	others := 0
	for _, e := range entries {
		name, v, err := FileProject(e.Filename)
		if err != nil || !SameProject(name, project) || v != version {
			continue // another version, or a file type this verifier does not read
		}
		if e.Yanked != "" {
			return nil, fmt.Errorf("%w: %s of %s %s is yanked (%s)", ErrYanked, e.Filename, project, version, e.Yanked)
		}
		if want != nil && !want(e.Filename) {
			others++
			continue
		}
		if e.SHA256 == "" {
			return nil, fmt.Errorf("%w: %s lists no sha256 for %s", ErrIndex, page, e.Filename)
		}
		fu, err := pu.Parse(e.URL)
		if err != nil || fu.Host == "" {
			return nil, fmt.Errorf("%w: the URL of %s (%q) is not a URL", ErrIndex, e.Filename, e.URL)
		}
		fu.Fragment = ""
		f := File{Filename: e.Filename, URL: fu.String(), SHA256: e.SHA256}
		if e.Provenance != "" {
			vu, err := pu.Parse(e.Provenance)
			if err != nil || vu.Host == "" {
				return nil, fmt.Errorf("%w: the provenance URL of %s (%q) is not a URL", ErrIndex, e.Filename, e.Provenance)
			}
			f.ProvenanceURL = vu.String()
		} else {
			f.ProvenanceURL = root + "/integrity/" + url.PathEscape(Normalize(project)) + "/" + url.PathEscape(version) + "/" + url.PathEscape(e.Filename) + "/provenance"
		}
		rel.Files = append(rel.Files, f)
		if len(rel.Files) > c.limits.MaxFiles {
			return nil, &LimitError{What: "files of " + project + " " + version, Limit: int64(c.limits.MaxFiles)}
		}
	}
	if len(rel.Files) == 0 && others > 0 {
		return nil, fmt.Errorf("%w: none of the %d files of %s %s at %s is of the kind required", ErrNotFound, others, project, version, page)
	}
	if len(rel.Files) == 0 {
		return nil, fmt.Errorf("%w: %s %s has no distributions (wheel or sdist) at %s", ErrNotFound, project, version, page)
	}
	for i := range rel.Files {
		if err := c.download(ctx, &rel.Files[i]); err != nil {
			return nil, err
		}
	}
	return rel, nil
}

func (c *Client) download(ctx context.Context, f *File) error {
	u, _ := url.Parse(f.URL)
	if err := c.checkURL(u); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrIndex, f.Filename, err)
	}
	data, status, _, err := c.get(ctx, f.URL, "application/octet-stream, */*;q=0.1", c.limits.MaxFileBytes, f.Filename)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%w: GET %s: status %d", ErrIndex, f.URL, status)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Errorf("%w: %s from %s hashes to sha256:%s, the index lists sha256:%s", ErrHash, f.Filename, f.URL, got, f.SHA256)
	}
	f.Data = data
	pv, _ := url.Parse(f.ProvenanceURL)
	if err := c.checkURL(pv); err != nil {
		return fmt.Errorf("%w: provenance of %s: %v", ErrIndex, f.Filename, err)
	}
	body, status, _, err := c.get(ctx, f.ProvenanceURL, IntegrityJSON+", application/json;q=0.5", c.limits.MaxPageBytes, "provenance of "+f.Filename)
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound:
		return nil // no attestations for this file; the policy decides
	case status != http.StatusOK:
		return fmt.Errorf("%w: GET %s: status %d", ErrIndex, f.ProvenanceURL, status)
	}
	f.Provenance = body
	return nil
}

// PageFile is one file entry of a project page.
type PageFile struct {
	Filename string
	URL      string
	// SHA256 is the lower-case hex sha256 the page lists ("" when none).
	SHA256 string
	// Yanked is the yank reason ("yanked" when none is given); "" when not yanked.
	Yanked string
	// Provenance is the PEP 740 provenance URL ("" when the page names none).
	Provenance string
}

type jsonPage struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Name  string `json:"name"`
	Files []struct {
		Filename   string            `json:"filename"`
		URL        string            `json:"url"`
		Hashes     map[string]string `json:"hashes"`
		Yanked     json.RawMessage   `json:"yanked"`
		Provenance *string           `json:"provenance"`
	} `json:"files"`
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseProjectPage reads a simple API project page: PEP 691 JSON when contentType is the
// JSON media type (or application/json), else a PEP 503 HTML page. The page must be the
// project's (PEP 503 normalized). Hashes other than sha256 are ignored; a sha256 that is
// not 64 hex digits is an error.
func ParseProjectPage(body []byte, contentType, project string) ([]PageFile, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == SimpleJSON || mt == "application/json" {
		return parseJSONPage(body, project)
	}
	if mt == "" && len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{' {
		return parseJSONPage(body, project)
	}
	return parseHTMLPage(body)
}

func parseJSONPage(body []byte, project string) ([]PageFile, error) {
	if err := intoto.CheckStrictJSON(body); err != nil {
		return nil, err
	}
	var p jsonPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("project page: %v", err)
	}
	if !strings.HasPrefix(p.Meta.APIVersion, "1.") {
		return nil, fmt.Errorf("project page: meta.api-version %q is not 1.x", p.Meta.APIVersion)
	}
	if !SameProject(p.Name, project) {
		return nil, fmt.Errorf("project page is of %q, not %q", p.Name, project)
	}
	out := make([]PageFile, 0, len(p.Files))
	for _, f := range p.Files {
		pf := PageFile{Filename: f.Filename, URL: f.URL}
		if h, ok := f.Hashes["sha256"]; ok {
			h = strings.ToLower(h)
			if !hexSHA256.MatchString(h) {
				return nil, fmt.Errorf("file %s: sha256 %q is not 64 hex digits", f.Filename, h)
			}
			pf.SHA256 = h
		}
		switch y := strings.TrimSpace(string(f.Yanked)); {
		case y == "" || y == "false" || y == "null":
		case y == "true":
			pf.Yanked = "yanked"
		default:
			var reason string
			if err := json.Unmarshal(f.Yanked, &reason); err != nil {
				return nil, fmt.Errorf("file %s: yanked is neither a boolean nor a string", f.Filename)
			}
			pf.Yanked = "yanked: " + reason
		}
		if f.Provenance != nil {
			pf.Provenance = *f.Provenance
		}
		out = append(out, pf)
	}
	return out, nil
}

var (
	anchorRe = regexp.MustCompile(`(?is)<a\s([^>]*)>(.*?)</a\s*>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')|([a-z][a-z0-9-]*)`)
)

// parseHTMLPage reads a PEP 503 page: one anchor per file, its text the file name, its
// href the URL with a "#sha256=<hex>" fragment, data-yanked when yanked (PEP 592) and
// data-provenance (PEP 740).
func parseHTMLPage(body []byte) ([]PageFile, error) {
	var out []PageFile
	for _, m := range anchorRe.FindAllSubmatch(body, -1) {
		pf := PageFile{Filename: strings.TrimSpace(html.UnescapeString(string(m[2])))}
		for _, a := range attrRe.FindAllSubmatch(m[1], -1) {
			key := strings.ToLower(string(a[1]))
			val := html.UnescapeString(string(a[2]) + string(a[3]))
			if len(a[4]) > 0 {
				key, val = strings.ToLower(string(a[4])), ""
				if key == "data-yanked" {
					pf.Yanked = "yanked"
				}
				continue
			}
			switch key {
			case "href":
				pf.URL = val
			case "data-yanked":
				pf.Yanked = "yanked"
				if val != "" {
					pf.Yanked = "yanked: " + val
				}
			case "data-provenance":
				pf.Provenance = val
			}
		}
		if i := strings.Index(pf.URL, "#"); i >= 0 {
			frag := pf.URL[i+1:]
			if h, ok := strings.CutPrefix(frag, "sha256="); ok {
				h = strings.ToLower(h)
				if !hexSHA256.MatchString(h) {
					return nil, fmt.Errorf("file %s: sha256 %q is not 64 hex digits", pf.Filename, h)
				}
				pf.SHA256 = h
			}
			pf.URL = pf.URL[:i]
		}
		out = append(out, pf)
	}
	return out, nil
}

// LimitError says which bound was broken.
type LimitError struct {
	What  string
	Limit int64
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s: more than %d", e.What, e.Limit) }
func (e *LimitError) Unwrap() error { return ErrLimit }

func (c *Client) get(ctx context.Context, u, accept string, limit int64, what string) ([]byte, int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, "", fmt.Errorf("%w: %v", ErrIndex, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, "", fmt.Errorf("pypi: GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, 0, "", &LimitError{What: what + " (bytes)", Limit: limit}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, "", fmt.Errorf("pypi: GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, 0, "", &LimitError{What: what + " (bytes)", Limit: limit}
	}
	c.log.Debug("pypi fetch", slog.String("url", u), slog.Int("status", resp.StatusCode), slog.Int("bytes", len(body)))
	return body, resp.StatusCode, resp.Header.Get("Content-Type"), nil
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
