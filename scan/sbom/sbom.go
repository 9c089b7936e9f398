package sbom

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Errors returned by Decode. Each is wrapped with context; test with errors.Is.
var (
	// ErrNotSBOM: the input is not an SPDX or CycloneDX JSON document.
	ErrNotSBOM = errors.New("not an SPDX or CycloneDX JSON SBOM")
	// ErrMalformed: the input is not valid JSON (truncated, garbage) or a required field is wrong.
	ErrMalformed = errors.New("malformed SBOM")
	// ErrUnsupportedVersion: an SPDX or CycloneDX version this decoder does not accept.
	ErrUnsupportedVersion = errors.New("unsupported SBOM version")
	// ErrNoPackages: the SBOM lists no packages at all.
	ErrNoPackages = errors.New("SBOM has no packages")
	// ErrTooLarge: a size, nesting or count limit was exceeded.
	ErrTooLarge = errors.New("SBOM exceeds a limit")
)

// Format names the SBOM format a document was decoded from.
type Format string

// Formats.
const (
	FormatSPDX      Format = "spdx"
	FormatCycloneDX Format = "cyclonedx"
)

// Package is one package of an SBOM, as matching needs it. Ecosystem is the OSV ecosystem
// derived from the purl type ("npm", "PyPI", "Go", "Maven", "Alpine:v3.22", …); it is empty
// when the purl type has no OSV ecosystem or the package has no purl, and then Reason says why
// the package cannot be assessed.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem,omitempty"`
	PURL      string `json:"purl,omitempty"`
	// Reason is set when the package cannot be matched (no purl, unknown purl type, no version).
	Reason string `json:"reason,omitempty"`
}

// Assessable reports whether the package carries what matching needs.
func (p Package) Assessable() bool { return p.Reason == "" }

// Document is a decoded SBOM: its format, spec version, subject and packages. It is
// JSON-serializable; store it (or just Packages) to re-scan later without the SBOM.
type Document struct {
	Format      Format    `json:"format"`
	SpecVersion string    `json:"specVersion"`
	Subject     string    `json:"subject,omitempty"`
	Packages    []Package `json:"packages"`
}

// Limits bound what Decode accepts.
type Limits struct {
	MaxBytes    int64 // whole document
	MaxDepth    int   // JSON nesting
	MaxPackages int   // packages after extraction
}

// DefaultLimits are generous for real SBOMs (the largest real ones are a few MiB).
var DefaultLimits = Limits{MaxBytes: 64 << 20, MaxDepth: 64, MaxPackages: 250_000}

// Decode reads one SBOM with DefaultLimits.
func Decode(r io.Reader) (*Document, error) { return DecodeWithLimits(r, DefaultLimits) }

// DecodeWithLimits reads one SBOM, recognised by its content, whatever the file is called.
func DecodeWithLimits(r io.Reader, lim Limits) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sbom: read: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("sbom: %w: larger than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	return DecodeBytes(data, lim)
}

// DecodeBytes decodes an SBOM held in memory.
func DecodeBytes(data []byte, lim Limits) (*Document, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("sbom: %w: larger than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("sbom: %w: input is not a JSON object", ErrNotSBOM)
	}
	if err := checkDepth(data, lim.MaxDepth); err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		// Find the position for a useful message.
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("sbom: %w: invalid JSON (truncated?): %v", ErrMalformed, err)
	}
	var probe struct {
		BOMFormat   *string `json:"bomFormat"`
		SPDXVersion *string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("sbom: %w: %v", ErrMalformed, err)
	}
	var (
		doc *Document
		err error
	)
	switch {
	case probe.BOMFormat != nil && probe.SPDXVersion != nil:
		return nil, fmt.Errorf("sbom: %w: both bomFormat and spdxVersion present", ErrMalformed)
	case probe.BOMFormat != nil:
		doc, err = decodeCycloneDX(data)
	case probe.SPDXVersion != nil:
		doc, err = decodeSPDX(data)
	default:
		return nil, fmt.Errorf("sbom: %w: neither bomFormat (CycloneDX) nor spdxVersion (SPDX) present", ErrNotSBOM)
	}
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	if len(doc.Packages) == 0 {
		return nil, fmt.Errorf("sbom: %w (%s %s)", ErrNoPackages, doc.Format, doc.SpecVersion)
	}
	if lim.MaxPackages > 0 && len(doc.Packages) > lim.MaxPackages {
		return nil, fmt.Errorf("sbom: %w: %d packages, limit %d", ErrTooLarge, len(doc.Packages), lim.MaxPackages)
	}
	doc.Packages = dedupe(doc.Packages)
	return doc, nil
}

// dedupe drops exact duplicates (same purl, name, version) and sorts for a stable order.
func dedupe(pkgs []Package) []Package {
	slices.SortFunc(pkgs, compare)
	out := pkgs[:0]
	for i, p := range pkgs {
		if i > 0 && p == pkgs[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

func compare(a, b Package) int {
	return cmp.Or(
		strings.Compare(a.Ecosystem, b.Ecosystem),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.Version, b.Version),
		strings.Compare(a.PURL, b.PURL),
		strings.Compare(a.Reason, b.Reason),
	)
}

// checkDepth rejects documents nested deeper than max, without building anything.
func checkDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if max > 0 && depth > max {
				return fmt.Errorf("sbom: %w: JSON nested deeper than %d", ErrTooLarge, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
