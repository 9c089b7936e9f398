package npm

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrSpec is wrapped by every error about a package name, version or spec.
var ErrSpec = errors.New("bad npm package spec")

// MaxNameLength is npm's limit on a package name.
const MaxNameLength = 214

var (
	// npm's rules for new package names: lowercase, URL-safe, optionally scoped.
	nameRE = regexp.MustCompile(`^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$`)
	// semver 2.0.0, exactly one version: no ranges, no dist-tags, no leading "v" or "=".
	versionRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
		`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// ValidateName checks an npm package name ("name" or "@scope/name").
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty package name", ErrSpec)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: package name longer than %d characters", ErrSpec, MaxNameLength)
	case !nameRE.MatchString(name):
		return fmt.Errorf("%w: %q is not a valid npm package name (lowercase, URL-safe, optionally @scope/name)", ErrSpec, name)
	}
	return nil
}

// ValidateVersion checks that version is one exact semver version. Ranges ("^1.2.0",
// "1.x") and dist-tags ("latest") are refused: what is verified must be one tarball.
func ValidateVersion(version string) error {
	if len(version) > 256 || !versionRE.MatchString(version) {
		return fmt.Errorf("%w: %q is not an exact version (x.y.z[-pre][+build]); dist-tags and ranges are refused", ErrSpec, version)
	}
	return nil
}

// ParseSpec splits "NAME@VERSION" ("@scope/name@1.2.3" included) and validates both.
func ParseSpec(spec string) (name, version string, err error) {
	i := strings.LastIndex(spec, "@")
	if i <= 0 {
		return "", "", fmt.Errorf("%w: %q: want NAME@VERSION with an exact version", ErrSpec, spec)
	}
	name, version = spec[:i], spec[i+1:]
	if err := ValidateName(name); err != nil {
		return "", "", err
	}
	if err := ValidateVersion(version); err != nil {
		return "", "", err
	}
	return name, version, nil
}

// PURL is the package URL npm's attestations name as their subject: pkg:npm/NAME@VERSION,
// with a scope's "@" percent-encoded.
func PURL(name, version string) string {
	return "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
}

// ParsePURL parses an npm package URL into name and version. Percent-encoding is undone,
// so "pkg:npm/%40scope/name@1.0.0" and "pkg:npm/@scope/name@1.0.0" name the same package;
// qualifiers and subpaths are refused.
func ParsePURL(purl string) (name, version string, err error) {
	rest, ok := strings.CutPrefix(purl, "pkg:npm/")
	if !ok {
		return "", "", fmt.Errorf("%w: %q is not an npm package URL", ErrSpec, purl)
	}
	if strings.ContainsAny(rest, "?#") {
		return "", "", fmt.Errorf("%w: %q: qualifiers and subpaths are not allowed", ErrSpec, purl)
	}
	i := strings.LastIndex(rest, "@")
	if i <= 0 {
		return "", "", fmt.Errorf("%w: %q has no version", ErrSpec, purl)
	}
	n, err := url.PathUnescape(rest[:i])
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrSpec, purl, err)
	}
	v, err := url.PathUnescape(rest[i+1:])
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrSpec, purl, err)
	}
	return n, v, nil
}
