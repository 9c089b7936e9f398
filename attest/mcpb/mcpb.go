package mcpb

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// Bounds on what is read.
const (
	// MaxBundleBytes bounds a downloaded bundle (default limit).
	MaxBundleBytes = 256 << 20
	// MaxEntries bounds the entries of a bundle's zip directory.
	MaxEntries = 200_000
	// MaxManifestBytes bounds manifest.json.
	MaxManifestBytes = 1 << 20
	// MaxTools bounds the tools a manifest declares.
	MaxTools = 1000
)

// Errors this package wraps.
var (
	// ErrSpec: a URL or digest that is not acceptable (a usage error).
	ErrSpec = errors.New("mcpb: invalid bundle URL or digest")
	// ErrFetch: the bundle could not be downloaded (status, transport, a bound).
	ErrFetch = errors.New("mcpb: bundle not fetched")
	// ErrHash: the bundle's bytes do not hash to the declared fileSha256.
	ErrHash = errors.New("mcpb: bundle does not match its fileSha256")
	// ErrBundle: the bundle is not a well-formed MCPB archive.
	ErrBundle = errors.New("mcpb: malformed bundle")
)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckURL validates a bundle URL: https, or http to loopback or a host in insecure.
func CheckURL(raw string, insecure []string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrSpec, raw)
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if isLoopback(u.Hostname()) {
			return u, nil
		}
		for _, h := range insecure {
			if h == u.Host {
				return u, nil
			}
		}
		return nil, fmt.Errorf("%w: plain http to %s is not allowed (only loopback or an insecure-listed host)", ErrSpec, u.Host)
	}
	return nil, fmt.Errorf("%w: scheme %q is not http(s)", ErrSpec, u.Scheme)
}

// CheckSHA256 validates a fileSha256 (64 lower-case hex digits).
func CheckSHA256(s string) error {
	if !hexSHA256.MatchString(s) {
		return fmt.Errorf("%w: fileSha256 %q is not 64 lower-case hex digits", ErrSpec, s)
	}
	return nil
}

// FetchOptions configure Fetch.
type FetchOptions struct {
	// Transport carries the request (the guarded outbound transport); default
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure lists hosts that may be reached over plain HTTP (loopback always may).
	Insecure []string
	// MaxBytes bounds the bundle (default MaxBundleBytes); Timeout the download (default 3
	// minutes).
	MaxBytes int64
	Timeout  time.Duration
}

// Fetch downloads the bundle at rawURL and checks it against sha256Hex. Nothing is retried
// on another URL; redirects are followed only to URLs CheckURL accepts.
func Fetch(ctx context.Context, o FetchOptions, rawURL, sha256Hex string) ([]byte, error) {
	u, err := CheckURL(rawURL, o.Insecure)
	if err != nil {
		return nil, err
	}
	if err := CheckSHA256(sha256Hex); err != nil {
		return nil, err
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = MaxBundleBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Minute
	}
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc := &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		_, err := CheckURL(req.URL.String(), o.Insecure)
		return err
	}}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrFetch, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrFetch, u, resp.StatusCode)
	}
	if resp.ContentLength > o.MaxBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrFetch, u, resp.ContentLength, o.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, o.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrFetch, u, err)
	}
	if int64(len(data)) > o.MaxBytes {
		return nil, fmt.Errorf("%w: %s is more than %d bytes", ErrFetch, u, o.MaxBytes)
	}
	if got := Sum(data); got != sha256Hex {
		return nil, fmt.Errorf("%w: %s hashes to sha256:%s, server.json declares fileSha256 %s", ErrHash, u, got, sha256Hex)
	}
	return data, nil
}

// Sum is the hex sha256 of data.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Manifest is what Vetted reads of an MCPB manifest.json; other keys are kept unread.
type Manifest struct {
	// ManifestVersion is manifest_version (or the older dxt_version).
	ManifestVersion string `json:"-"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	Server          struct {
		Type       string `json:"type"`
		EntryPoint string `json:"entry_point"`
	} `json:"server"`
	// Tools are the tools the bundle declares; nil when the manifest declares none.
	Tools []Tool `json:"tools"`
	// HasTools says whether the manifest has a "tools" key at all.
	HasTools bool `json:"-"`
}

// Tool is one declared tool.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// CheckPath refuses a zip entry name that could escape the directory it is unpacked into
// or be read differently by another unpacker: absolute, "..", backslashes, drive letters,
// NUL, empty segments.
func CheckPath(name string) error {
	switch {
	case name == "", strings.HasPrefix(name, "/"), strings.Contains(name, "\\"), strings.ContainsRune(name, 0),
		len(name) > 1 && name[1] == ':', len(name) > 4096:
		return fmt.Errorf("%w: entry name %q", ErrBundle, name)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == ".." || seg == "." || seg == "" {
			return fmt.Errorf("%w: entry name %q", ErrBundle, name)
		}
	}
	if path.Clean(name) != strings.TrimSuffix(name, "/") {
		return fmt.Errorf("%w: entry name %q is not clean", ErrBundle, name)
	}
	return nil
}

// OpenZip opens a bundle's zip directory and checks every entry name (CheckPath), that no
// name appears twice, and the entry count.
func OpenZip(data []byte) (*zip.Reader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive: %v", ErrBundle, err)
	}
	if len(zr.File) > MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, more than %d", ErrBundle, len(zr.File), MaxEntries)
	}
	seen := make(map[string]bool, len(zr.File))
	for _, f := range zr.File {
		if err := CheckPath(f.Name); err != nil {
			return nil, err
		}
		key := strings.ToLower(strings.TrimSuffix(f.Name, "/"))
		if seen[key] {
			return nil, fmt.Errorf("%w: entry %q appears twice (compared without letter case)", ErrBundle, f.Name)
		}
		seen[key] = true
	}
	return zr, nil
}

// ReadEntry reads one regular entry, at most limit bytes.
func ReadEntry(f *zip.File, limit int64) ([]byte, error) {
	if !f.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrBundle, f.Name)
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBundle, f.Name, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBundle, f.Name, limit)
	}
	return b, nil
}

// ReadManifest reads the bundle's root manifest.json strictly: one JSON object without
// duplicate keys, a manifest_version (or dxt_version), a name, a version and a server
// entry; tools, when present, each with a unique non-empty name.
func ReadManifest(data []byte) (*Manifest, error) {
	zr, err := OpenZip(data)
	if err != nil {
		return nil, err
	}
	var raw []byte
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			if raw, err = ReadEntry(f, MaxManifestBytes); err != nil {
				return nil, err
			}
		}
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: no manifest.json at the bundle's root", ErrBundle)
	}
	return ParseManifest(raw)
}

// ParseManifest parses manifest.json bytes (see ReadManifest).
func ParseManifest(raw []byte) (*Manifest, error) {
	if err := intoto.CheckStrictJSON(raw); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrBundle, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, fmt.Errorf("%w: manifest.json is not an object: %v", ErrBundle, err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrBundle, err)
	}
	for _, k := range []string{"manifest_version", "dxt_version"} {
		if v, ok := keys[k]; ok {
			if json.Unmarshal(v, &m.ManifestVersion) != nil || m.ManifestVersion == "" {
				return nil, fmt.Errorf("%w: manifest.json: %s must be a non-empty string", ErrBundle, k)
			}
			break
		}
	}
	switch {
	case m.ManifestVersion == "":
		return nil, fmt.Errorf("%w: manifest.json has no manifest_version", ErrBundle)
	case m.Name == "":
		return nil, fmt.Errorf("%w: manifest.json has no name", ErrBundle)
	case m.Version == "":
		return nil, fmt.Errorf("%w: manifest.json has no version", ErrBundle)
	case m.Server.Type == "" || m.Server.EntryPoint == "":
		return nil, fmt.Errorf("%w: manifest.json has no server.type and server.entry_point", ErrBundle)
	}
	if err := CheckPath(m.Server.EntryPoint); err != nil {
		return nil, fmt.Errorf("%w: manifest.json server.entry_point %q escapes the bundle", ErrBundle, m.Server.EntryPoint)
	}
	_, m.HasTools = keys["tools"]
	if len(m.Tools) > MaxTools {
		return nil, fmt.Errorf("%w: manifest.json declares %d tools, more than %d", ErrBundle, len(m.Tools), MaxTools)
	}
	names := map[string]bool{}
	for i, t := range m.Tools {
		if t.Name == "" {
			return nil, fmt.Errorf("%w: manifest.json tools[%d] has no name", ErrBundle, i)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("%w: manifest.json declares tool %q twice", ErrBundle, t.Name)
		}
		names[t.Name] = true
	}
	return m, nil
}

// CompareTools compares the bundle's declared tools with an attested tool manifest (a
// {"tools":[{name, description, …}]} document): the same tool names, and for each the same
// description. It returns the differences, empty when they agree.
func CompareTools(declared []Tool, attested []byte) ([]string, error) {
	var doc struct {
		Tools []Tool `json:"tools"`
	}
	if err := json.Unmarshal(attested, &doc); err != nil {
		return nil, fmt.Errorf("attested tool manifest: %v", err)
	}
	att := map[string]string{}
	for _, t := range doc.Tools {
		att[t.Name] = t.Description
	}
	var diffs []string
	dec := map[string]bool{}
	for _, t := range declared {
		dec[t.Name] = true
		d, ok := att[t.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("tool %q is declared in manifest.json but not attested", t.Name))
		case d != t.Description:
			diffs = append(diffs, fmt.Sprintf("tool %q: manifest.json describes it as %q, the attested manifest as %q", t.Name, t.Description, d))
		}
	}
	for _, t := range doc.Tools {
		if !dec[t.Name] {
			diffs = append(diffs, fmt.Sprintf("tool %q is attested but not declared in manifest.json", t.Name))
		}
	}
	return diffs, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
