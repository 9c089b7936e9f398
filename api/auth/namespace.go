package auth

import (
	"fmt"
	"regexp"
	"strings"
)

// Server names are "namespace/name", as in the official registry's server.json schema.
var (
	namespaceRe = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	nameRe      = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
)

// Pattern is a set of server names a publisher may publish: either one exact name
// ("io.github.acme/weather") or every name in one namespace ("io.github.acme/*"). The
// namespace is compared exactly, byte for byte: "io.github.acme/*" matches neither
// "io.github.acme-evil/x" nor "io.github.acme.sub/x" nor "IO.GITHUB.ACME/x".
type Pattern struct {
	namespace string
	name      string // "" when every name in the namespace matches
}

// ParsePattern parses "namespace/*" or "namespace/name".
func ParsePattern(s string) (Pattern, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		return Pattern{}, fmt.Errorf("namespace pattern %q: want \"namespace/*\" or \"namespace/name\"", s)
	}
	if !namespaceRe.MatchString(ns) {
		return Pattern{}, fmt.Errorf("namespace pattern %q: namespace %q must be letters, digits, '.' and '-'", s, ns)
	}
	if name == "*" {
		return Pattern{namespace: ns}, nil
	}
	if !nameRe.MatchString(name) {
		return Pattern{}, fmt.Errorf("namespace pattern %q: name %q must be \"*\" or letters, digits, '.', '_' and '-'", s, name)
	}
	return Pattern{namespace: ns, name: name}, nil
}

// MustParsePattern is ParsePattern for constants; it panics on error.
func MustParsePattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern as parsed.
func (p Pattern) String() string {
	if p.name == "" {
		return p.namespace + "/*"
	}
	return p.namespace + "/" + p.name
}

// Match reports whether the server name falls under p. A malformed name never matches.
func (p Pattern) Match(serverName string) bool {
	if p.namespace == "" {
		return false
	}
	ns, name, ok := strings.Cut(serverName, "/")
	if !ok || ns != p.namespace || !nameRe.MatchString(name) {
		return false
	}
	return p.name == "" || p.name == name
}

// MarshalText and UnmarshalText let patterns live in configuration.
func (p Pattern) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a pattern.
func (p *Pattern) UnmarshalText(b []byte) error {
	q, err := ParsePattern(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
