package toolmanifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gowebpki/jcs"
)

// PredicateType is the in-toto predicate type under which a tool manifest is attested
// (`cosign attest --type https://vetted.dev/tool-manifest/v1 --predicate tools.json`).
const PredicateType = "https://vetted.dev/tool-manifest/v1"

// MaxManifestBytes is the largest manifest Parse accepts.
const MaxManifestBytes = 16 << 20

// DigestAlgorithm prefixes every digest this package produces.
const DigestAlgorithm = "sha256"

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid tool manifest")

// InvalidError says where and why a manifest was rejected.
type InvalidError struct {
	// Pointer is the RFC 6901 JSON pointer of the offending value ("" for the document).
	Pointer string
	// Offset is the byte offset in the input, or -1 when unknown.
	Offset int
	Reason string
}

func (e *InvalidError) Error() string {
	where := e.Pointer
	if where == "" {
		where = "/"
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("%v: at %s (byte %d): %s", ErrInvalid, where, e.Offset, e.Reason)
	}
	return fmt.Sprintf("%v: at %s: %s", ErrInvalid, where, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(v *Value, ptr, format string, a ...any) error {
	off := -1
	if v != nil {
		off = v.Start
	}
	return &InvalidError{Pointer: ptr, Offset: off, Reason: fmt.Sprintf(format, a...)}
}

// Tool is one tool of a manifest.
type Tool struct {
	Name string
	// Raw is the tool object exactly as served.
	Raw []byte
	// Canonical is Raw canonicalized with RFC 8785 (JCS).
	Canonical []byte
	// Digest is "sha256:" + hex(sha256(Canonical)).
	Digest string
	// Value is the parsed tool, members in served order.
	Value *Value
}

// Manifest is a parsed tool manifest.
type Manifest struct {
	// Tools in the order they were served.
	Tools []*Tool
	// Digest is the manifest digest (see docs/tool-manifest-hashing.md).
	Digest string
}

// ToolDigest is the name and digest of one tool.
type ToolDigest struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Summary is the manifest digest and the tools' digests sorted by name; its JSON form is the
// output of `vetted tools digest --json`.
type Summary struct {
	ManifestDigest string       `json:"manifestDigest"`
	Tools          []ToolDigest `json:"tools"`
}

// Parse parses a manifest (`{"tools":[…]}`, other top-level members allowed and ignored)
// strictly and hashes it.
func Parse(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestBytes {
		return nil, &InvalidError{Offset: -1, Reason: fmt.Sprintf("manifest is %d bytes, more than the limit of %d", len(data), MaxManifestBytes)}
	}
	root, err := parseJSON(data)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, &InvalidError{Offset: se.Offset, Reason: se.Msg}
		}
		return nil, &InvalidError{Offset: -1, Reason: err.Error()}
	}
	if root.Kind != Object {
		return nil, invalid(root, "", "a manifest is a JSON object {\"tools\":[…]}, got %s", root.Kind)
	}
	if err := checkCaseVariants(root, "", []string{"tools"}); err != nil {
		return nil, err
	}
	tools := root.Get("tools")
	if tools == nil {
		return nil, invalid(root, "", "no \"tools\" member")
	}
	if tools.Kind != Array {
		return nil, invalid(tools, "/tools", "\"tools\" must be an array, got %s", tools.Kind)
	}
	m := &Manifest{}
	names := map[string]int{}
	for i, tv := range tools.Elems {
		ptr := fmt.Sprintf("/tools/%d", i)
		t, err := newTool(data, tv, ptr)
		if err != nil {
			return nil, err
		}
		if j, dup := names[t.Name]; dup {
			return nil, invalid(tv, ptr+"/name", "duplicate tool name %q (also /tools/%d)", t.Name, j)
		}
		names[t.Name] = i
		m.Tools = append(m.Tools, t)
	}
	m.Digest = m.Summary().ManifestDigest
	return m, nil
}

// ParseTool parses and hashes a single tool object.
func ParseTool(data []byte) (*Tool, error) {
	v, err := parseJSON(data)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, &InvalidError{Offset: se.Offset, Reason: se.Msg}
		}
		return nil, &InvalidError{Offset: -1, Reason: err.Error()}
	}
	return newTool(data, v, "")
}

func newTool(src []byte, v *Value, ptr string) (*Tool, error) {
	if err := validateTool(v, ptr); err != nil {
		return nil, err
	}
	raw := src[v.Start:v.End]
	canon, err := jcs.Transform(raw)
	if err != nil {
		return nil, invalid(v, ptr, "canonicalization failed: %v", err)
	}
	sum := sha256.Sum256(canon)
	return &Tool{
		Name:      v.Get("name").Str,
		Raw:       raw,
		Canonical: canon,
		Digest:    DigestAlgorithm + ":" + hex.EncodeToString(sum[:]),
		Value:     v,
	}, nil
}

// Tool returns the tool named name, or nil.
func (m *Manifest) Tool(name string) *Tool {
	for _, t := range m.Tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Sorted returns the tools sorted by name (byte-wise UTF-8, which is Unicode code point order).
func (m *Manifest) Sorted() []*Tool {
	s := slices.Clone(m.Tools)
	slices.SortFunc(s, func(a, b *Tool) int { return strings.Compare(a.Name, b.Name) })
	return s
}

// Summary returns the manifest digest and the per-tool digests sorted by name.
func (m *Manifest) Summary() Summary {
	s := Summary{Tools: []ToolDigest{}}
	for _, t := range m.Sorted() {
		s.Tools = append(s.Tools, ToolDigest{Name: t.Name, Digest: t.Digest})
	}
	s.ManifestDigest = ManifestDigest(s.Tools)
	return s
}

// ManifestDigest computes the manifest digest from per-tool digests: sha256 over the JCS
// form of the array [{"digest":…,"name":…},…] sorted by name. The tools need not be sorted.
func ManifestDigest(tools []ToolDigest) string {
	s := slices.Clone(tools)
	slices.SortFunc(s, func(a, b ToolDigest) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings only: cannot fail
	canon, err := jcs.Transform(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		panic(fmt.Sprintf("toolmanifest: canonicalizing a digest list: %v", err)) // unreachable: valid UTF-8 strings only
	}
	sum := sha256.Sum256(canon)
	return DigestAlgorithm + ":" + hex.EncodeToString(sum[:])
}

// Encode writes the manifest as `{"tools":[…]}` with every tool exactly as served, indented
// for reading (indentation does not change any digest).
func (m *Manifest) Encode() []byte {
	var raw bytes.Buffer
	raw.WriteString(`{"tools":[`)
	for i, t := range m.Tools {
		if i > 0 {
			raw.WriteByte(',')
		}
		raw.Write(t.Raw)
	}
	raw.WriteString(`]}`)
	var out bytes.Buffer
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return append(raw.Bytes(), '\n')
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// FromTools builds a manifest from raw tool objects (as a `tools/list` result returned them).
func FromTools(raws []json.RawMessage) (*Manifest, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"tools":[`)
	for i, r := range raws {
		if _, err := parseJSON(r); err != nil {
			return nil, &InvalidError{Pointer: fmt.Sprintf("/tools/%d", i), Offset: -1, Reason: err.Error()}
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(r)
	}
	buf.WriteString(`]}`)
	return Parse(buf.Bytes())
}

// pointerEscape escapes one reference token (RFC 6901).
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
