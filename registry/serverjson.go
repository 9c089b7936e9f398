package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gowebpki/jcs"
	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
	"github.com/modelcontextprotocol/registry/pkg/model"

	"github.com/vetted-dev/vetted/internal/strictjson"
)

// MaxServerJSON is the largest server.json accepted (upstream's documents are a few KiB).
const MaxServerJSON = 256 << 10

// MaxPackages is the most packages one server.json may list: each is fetched and verified
// (and 400 of them took 8.8 s); real servers ship one or a few.
const MaxPackages = 16

// ServerDoc is a submitted server.json decoded once, strictly (see ParseServerJSON), and
// the parts of it the pipeline reads. Authorization, storage and serving all use this one
// value: Server is what is re-encoded and served (PinServer).
type ServerDoc struct {
	// Server is the whole document in the official registry's type (v1.8.0), decoded
	// case-sensitively with nothing unknown in it. Readers of launch configuration
	// (packages[].runtimeArguments, packageArguments, environmentVariables, remotes[].headers)
	// read it here.
	Server apiv0.ServerJSON

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
	// Version and RegistryBaseURL are the package's version and registryBaseUrl (npm).
	Version         string `json:"version,omitempty"`
	RegistryBaseURL string `json:"registryBaseUrl,omitempty"`
	// FileSHA256 is the package's fileSha256 (required for MCPB).
	FileSHA256 string `json:"fileSha256,omitempty"`
}

// Label names the package in checks: "packages[0] ghcr.io/acme/weather:1.0".
func (p PackageRef) Label() string { return fmt.Sprintf("packages[%d] %s", p.Index, p.Identifier) }

var (
	serverNameRE = regexp.MustCompile(`^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`)
	// Version ranges are refused as upstream does: a version names exactly one release.
	versionRangeRE = regexp.MustCompile(`^[\^~<>=]|\*|^[xX](\.|$)|\.[xX](\.|$)|\s|\|\||,`)
)

// FieldError names the server.json field that is wrong. A document with several problems
// is one FieldError for the first, the next ones in Also (at most MaxFieldErrors in all) and
// the count of the rest in More.
type FieldError struct {
	Field  string
	Reason string
	Also   []FieldError
	More   int
	// Syntax is set when the body is not JSON at all (the API answers 400, not 422).
	Syntax bool
}

// MaxFieldErrors bounds the problems one FieldError lists.
const MaxFieldErrors = strictjson.DefaultMaxErrors

func (e *FieldError) Error() string {
	s := e.Field + ": " + e.Reason
	if n := len(e.Also) + e.More; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}
func (e *FieldError) Unwrap() error { return ErrInvalid }

// ParseServerJSON decodes a submitted server.json once, strictly, into the official type:
// exactly one JSON object of at most MaxServerJSON bytes, every key the exact name of a
// field of the official schema (apiv0.ServerJSON v1.8.0; free keys only under
// _meta["io.modelcontextprotocol.registry/publisher-provided"] and in variables maps), no
// key that differs from a known one only by letter case or under Unicode case folding, no
// duplicate keys, the schema's types and constraints, then the registry's own name and
// version rules and the package list. Errors are *FieldError naming the first field and
// listing at most MaxFieldErrors problems.
func ParseServerJSON(raw []byte) (ServerDoc, error) {
	if len(raw) > MaxServerJSON {
		return ServerDoc{}, &FieldError{Field: "body", Reason: fmt.Sprintf("larger than %d bytes", MaxServerJSON)}
	}
	var out ServerDoc
	if err := strictjson.Decode(raw, &out.Server, strictjson.Options{MaxErrors: MaxFieldErrors, MaxDepth: maxJSONDepth}); err != nil {
		return ServerDoc{}, fieldErrors(err)
	}
	// The content digest is over the RFC 8785 form: whatever cannot be canonicalized (lone
	// surrogate escapes, numbers out of range) is refused here, not after the checks.
	if _, err := jcs.Transform(raw); err != nil {
		return ServerDoc{}, &FieldError{Field: "body", Reason: "cannot be canonicalized (RFC 8785): " + strictjson.Excerpt(err.Error(), 200)}
	}
	doc := &out.Server
	switch {
	case doc.Name == "":
		return ServerDoc{}, &FieldError{Field: "name", Reason: "required"}
	case len(doc.Name) > 200 || !serverNameRE.MatchString(doc.Name):
		return ServerDoc{}, &FieldError{Field: "name", Reason: fmt.Sprintf("%s is not of the form namespace/name (reverse-DNS namespace, one slash)", strictjson.QuoteKey(doc.Name))}
	case doc.Version == "":
		return ServerDoc{}, &FieldError{Field: "version", Reason: "required"}
	case len(doc.Version) > 255:
		return ServerDoc{}, &FieldError{Field: "version", Reason: "longer than 255 characters"}
	case strings.EqualFold(doc.Version, "latest"):
		return ServerDoc{}, &FieldError{Field: "version", Reason: `"latest" is reserved; publish a specific version`}
	case versionRangeRE.MatchString(strings.SplitN(doc.Version, "+", 2)[0]):
		return ServerDoc{}, &FieldError{Field: "version", Reason: fmt.Sprintf("%s looks like a version range; publish a specific version", strictjson.QuoteKey(doc.Version))}
	}
	out.Name, out.Version, out.Remotes = doc.Name, doc.Version, len(doc.Remotes)
	if doc.Meta != nil {
		// The publisher-provided object is free-form, but Vetted reads a key of it: a
		// variant of that key that a case-insensitive client would read instead is refused.
		for k := range doc.Meta.PublisherProvided {
			if k != RemoteToolsKey && strictjson.EqualFold(k, RemoteToolsKey) {
				return ServerDoc{}, &FieldError{Field: `_meta["io.modelcontextprotocol.registry/publisher-provided"][` + strictjson.QuoteKey(k) + `]`,
					Reason: "differs from the key " + strictjson.QuoteKey(RemoteToolsKey) + " Vetted reads only by letter case; keys are matched exactly"}
			}
		}
		if v, ok := doc.Meta.PublisherProvided[RemoteToolsKey]; ok {
			ref, _ := v.(string)
			if ref == "" {
				return ServerDoc{}, &FieldError{Field: "_meta.io.modelcontextprotocol.registry/publisher-provided." + RemoteToolsKey,
					Reason: "must be the OCI reference of the signed tool manifest"}
			}
			out.RemoteToolsRef = ref
		}
	}
	if doc.Repository != nil {
		out.RepositoryURL = doc.Repository.URL
	}
	if len(doc.Packages) > MaxPackages {
		return ServerDoc{}, &FieldError{Field: "packages", Reason: fmt.Sprintf("%d packages; at most %d per server.json", len(doc.Packages), MaxPackages)}
	}
	for i, p := range doc.Packages {
		if p.RegistryType == "" || p.Identifier == "" {
			return ServerDoc{}, &FieldError{Field: fmt.Sprintf("packages[%d]", i), Reason: "registryType and identifier are required"}
		}
		out.Packages = append(out.Packages, PackageRef{Index: i, RegistryType: p.RegistryType, Identifier: p.Identifier,
			Version: p.Version, RegistryBaseURL: p.RegistryBaseURL, FileSHA256: p.FileSHA256})
	}
	if len(out.Packages) == 0 && out.Remotes == 0 {
		return ServerDoc{}, &FieldError{Field: "packages", Reason: "a server needs at least one package or remote"}
	}
	return out, nil
}

// fieldErrors converts the strict decoder's errors; paths name the field ("body" for the
// document itself).
func fieldErrors(err error) *FieldError {
	var se *strictjson.Errors
	if !errors.As(err, &se) || len(se.List) == 0 {
		return &FieldError{Field: "body", Reason: "not a server.json object: " + strictjson.Excerpt(err.Error(), 200)}
	}
	conv := func(e strictjson.Error) FieldError {
		if e.Path == "" {
			e.Path = "body"
		}
		return FieldError{Field: e.Path, Reason: e.Reason}
	}
	fe := conv(se.List[0])
	for _, e := range se.List[1:] {
		fe.Also = append(fe.Also, conv(e))
	}
	fe.More, fe.Syntax = se.More, se.Syntax
	return &fe
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

// CanonicalJSON returns the RFC 8785 canonical form of a server.json: the bytes whose
// sha256 is its content digest, and what a publisher signs for require.serverJSON.
func CanonicalJSON(raw []byte) ([]byte, error) {
	c, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonical server.json: %w: %w", ErrInvalid, err)
	}
	return c, nil
}

// PinServer returns the served form of a decoded server.json: the document re-encoded from
// its one decoded value, with each package identifier in pins (by package index) replaced by
// its pinned reference, in RFC 8785 canonical form. Nothing that was not decoded can be in it.
func PinServer(doc apiv0.ServerJSON, pins map[int]string) ([]byte, error) {
	doc.Packages = append([]model.Package(nil), doc.Packages...)
	for i, pin := range pins {
		if i < 0 || i >= len(doc.Packages) {
			return nil, fmt.Errorf("server.json: pin for packages[%d] of %d: %w", i, len(doc.Packages), ErrInvalid)
		}
		doc.Packages[i].Identifier = pin
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("server.json: %w", err)
	}
	return jcs.Transform(out)
}

// maxJSONDepth bounds the nesting of a server.json.
const maxJSONDepth = 64

// legacyPinnedServerJSON is how versions were served before the strict decoder (issue 17):
// the submitted bytes re-read as a generic map, identifiers replaced, RFC 8785 form. It
// serves nothing; the integrity check uses it to recompute, for an audit event recorded
// before seals existed, the bytes that were served then.
func legacyPinnedServerJSON(raw []byte, pins map[int]string) ([]byte, error) {
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
