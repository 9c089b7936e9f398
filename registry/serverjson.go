package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// MaxServerJSON is the largest server.json accepted (upstream's documents are a few KiB).
const MaxServerJSON = 256 << 10

// ServerDoc is what the pipeline needs from a server.json; the document itself is kept byte
// for byte.
type ServerDoc struct {
	Name          string
	Version       string
	RepositoryURL string
	Packages      []PackageRef
	Remotes       int
	// RemoteToolsRef is, for a remote-only server, the OCI reference of its signed tool
	// manifest: _meta["io.modelcontextprotocol.registry/publisher-provided"]["dev.vetted/tools"].
	RemoteToolsRef string
}

// RemoteToolsKey is the publisher-provided _meta key naming a remote-only server's signed
// tool-manifest artifact.
const RemoteToolsKey = "dev.vetted/tools"

// PackageRef is one entry of server.json's packages.
type PackageRef struct {
	Index        int    `json:"index"`
	RegistryType string `json:"registryType"`
	Identifier   string `json:"identifier"`
}

// Label names the package in checks: "packages[0] ghcr.io/acme/weather:1.0".
func (p PackageRef) Label() string { return fmt.Sprintf("packages[%d] %s", p.Index, p.Identifier) }

var (
	serverNameRE = regexp.MustCompile(`^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`)
	// Version ranges are refused as upstream does: a version names exactly one release.
	versionRangeRE = regexp.MustCompile(`^[\^~<>=]|\*|^[xX](\.|$)|\.[xX](\.|$)|\s|\|\||,`)
)

// FieldError names the server.json field that is wrong.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// ParseServerJSON parses and checks the parts of a server.json the registry relies on:
// strict JSON (a single object, no duplicate keys), the name and version rules, and the
// package list. Schema validation of every other field is the api layer's job (huma, with
// upstream's types). Errors are *FieldError.
func ParseServerJSON(raw []byte) (ServerDoc, error) {
	if len(raw) > MaxServerJSON {
		return ServerDoc{}, &FieldError{Field: "body", Reason: fmt.Sprintf("larger than %d bytes", MaxServerJSON)}
	}
	if !utf8.Valid(raw) {
		return ServerDoc{}, &FieldError{Field: "body", Reason: "not valid UTF-8"}
	}
	if err := checkStrictJSON(raw); err != nil {
		return ServerDoc{}, &FieldError{Field: "body", Reason: err.Error()}
	}
	// The content digest is over the RFC 8785 form: whatever cannot be canonicalized (lone
	// surrogate escapes, numbers out of range) is refused here, not after the checks.
	if _, err := jcs.Transform(raw); err != nil {
		return ServerDoc{}, &FieldError{Field: "body", Reason: "cannot be canonicalized (RFC 8785): " + err.Error()}
	}
	var doc struct {
		Name       string `json:"name"`
		Version    string `json:"version"`
		Repository *struct {
			URL string `json:"url"`
		} `json:"repository"`
		Packages []struct {
			RegistryType string `json:"registryType"`
			Identifier   string `json:"identifier"`
		} `json:"packages"`
		Remotes []json.RawMessage `json:"remotes"`
		Meta    struct {
			Publisher map[string]json.RawMessage `json:"io.modelcontextprotocol.registry/publisher-provided"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return ServerDoc{}, &FieldError{Field: "body", Reason: "not a server.json object: " + err.Error()}
	}
	switch {
	case doc.Name == "":
		return ServerDoc{}, &FieldError{Field: "name", Reason: "required"}
	case len(doc.Name) > 200 || !serverNameRE.MatchString(doc.Name):
		return ServerDoc{}, &FieldError{Field: "name", Reason: fmt.Sprintf("%q is not of the form namespace/name (reverse-DNS namespace, one slash)", doc.Name)}
	case doc.Version == "":
		return ServerDoc{}, &FieldError{Field: "version", Reason: "required"}
	case len(doc.Version) > 255:
		return ServerDoc{}, &FieldError{Field: "version", Reason: "longer than 255 characters"}
	case strings.EqualFold(doc.Version, "latest"):
		return ServerDoc{}, &FieldError{Field: "version", Reason: `"latest" is reserved; publish a specific version`}
	case versionRangeRE.MatchString(strings.SplitN(doc.Version, "+", 2)[0]):
		return ServerDoc{}, &FieldError{Field: "version", Reason: fmt.Sprintf("%q looks like a version range; publish a specific version", doc.Version)}
	}
	out := ServerDoc{Name: doc.Name, Version: doc.Version, Remotes: len(doc.Remotes)}
	if raw, ok := doc.Meta.Publisher[RemoteToolsKey]; ok {
		if err := json.Unmarshal(raw, &out.RemoteToolsRef); err != nil || out.RemoteToolsRef == "" {
			return ServerDoc{}, &FieldError{Field: "_meta.io.modelcontextprotocol.registry/publisher-provided." + RemoteToolsKey,
				Reason: "must be the OCI reference of the signed tool manifest"}
		}
	}
	if doc.Repository != nil {
		out.RepositoryURL = doc.Repository.URL
	}
	for i, p := range doc.Packages {
		if p.RegistryType == "" || p.Identifier == "" {
			return ServerDoc{}, &FieldError{Field: fmt.Sprintf("packages[%d]", i), Reason: "registryType and identifier are required"}
		}
		out.Packages = append(out.Packages, PackageRef{Index: i, RegistryType: p.RegistryType, Identifier: p.Identifier})
	}
	if len(out.Packages) == 0 && out.Remotes == 0 {
		return ServerDoc{}, &FieldError{Field: "packages", Reason: "a server needs at least one package or remote"}
	}
	return out, nil
}

// ContentDigest returns "sha256:<hex>" over the RFC 8785 canonical form of a server.json, so
// that re-publishing the same document with different whitespace or key order is the same
// content (idempotent) and anything else is a different one (a conflict).
func CanonicalContentDigest(raw []byte) (string, error) {
	c, err := jcs.Transform(raw)
	if err != nil {
		return "", fmt.Errorf("canonical server.json: %w: %w", ErrInvalid, err)
	}
	return Digest(c), nil
}

// PinServerJSON returns the served form of a server.json: the document with each package
// identifier in pins (by package index) replaced by its pinned reference, and keys ordered
// canonically. Unknown fields are kept.
func PinServerJSON(raw []byte, pins map[int]string) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("server.json: %w: %w", ErrInvalid, err)
	}
	if pkgs, ok := doc["packages"].([]any); ok {
		for i, p := range pkgs {
			pin, ok := pins[i]
			if !ok {
				continue
			}
			m, ok := p.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("server.json packages[%d]: not an object: %w", i, ErrInvalid)
			}
			m["identifier"] = pin
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("server.json: %w", err)
	}
	return jcs.Transform(out)
}

// checkStrictJSON accepts exactly one JSON object with no duplicate keys at any depth.
func checkStrictJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	if err := walkObject(dec, "", 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

const maxJSONDepth = 64

func walkObject(dec *json.Decoder, path string, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		k, _ := tok.(string)
		if seen[k] {
			return fmt.Errorf("duplicate key %q at %s", k, pathOrRoot(path))
		}
		seen[k] = true
		if err := walkValue(dec, path+"/"+k, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		return walkObject(dec, path, depth+1)
	case '[':
		if depth+1 > maxJSONDepth {
			return errors.New("JSON nested too deeply")
		}
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, fmt.Sprintf("%s/%d", path, i), depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	return fmt.Errorf("invalid JSON at %s", pathOrRoot(path))
}

func pathOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
