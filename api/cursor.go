package api

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/registry"
)

// A cursor is the keyset position (server name, version) of the last entry of a page,
// encoded opaquely: base64url (no padding) of "v1" NUL name NUL version. Clients must pass
// it back unchanged; anything else is a 400 naming the cursor parameter.
const (
	cursorPrefix     = "v1\x00"
	maxCursorLen     = 1024
	maxVersionLength = 255
)

func encodeCursor(k registry.Key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + k.Name + "\x00" + k.Version))
}

// decodeCursor parses a cursor produced by encodeCursor. Errors say what is wrong without
// echoing the input.
func decodeCursor(s string) (registry.Key, error) {
	if len(s) > maxCursorLen {
		return registry.Key{}, fmt.Errorf("longer than %d characters", maxCursorLen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return registry.Key{}, fmt.Errorf("not a cursor returned by this registry (bad encoding)")
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return registry.Key{}, fmt.Errorf("not a cursor returned by this registry (unknown format)")
	}
	name, version, ok := strings.Cut(rest, "\x00")
	if !ok || strings.IndexByte(version, 0) >= 0 {
		return registry.Key{}, fmt.Errorf("not a cursor returned by this registry (malformed)")
	}
	if err := validateName(name); err != nil {
		return registry.Key{}, fmt.Errorf("not a cursor returned by this registry (%v)", err)
	}
	if err := validateVersion(version); err != nil {
		return registry.Key{}, fmt.Errorf("not a cursor returned by this registry (%v)", err)
	}
	return registry.Key{Name: name, Version: version}, nil
}

// validateName checks a server name against the official registry's pattern
// ^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$ with 3..200 characters.
func validateName(name string) error {
	if len(name) < 3 || len(name) > 200 {
		return fmt.Errorf("server name must be 3 to 200 characters")
	}
	ns, rest, ok := strings.Cut(name, "/")
	if !ok || ns == "" || rest == "" {
		return fmt.Errorf("server name must be namespace/name with exactly one slash")
	}
	for i := 0; i < len(ns); i++ {
		if c := ns[i]; !(isAlnum(c) || c == '.' || c == '-') {
			return fmt.Errorf("server name namespace may contain only letters, digits, '.' and '-'")
		}
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(isAlnum(c) || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("server name may contain only letters, digits, '.', '_' and '-' after the slash")
		}
	}
	return nil
}

func validateVersion(v string) error {
	if v == "" || len(v) > maxVersionLength {
		return fmt.Errorf("version must be 1 to %d characters", maxVersionLength)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return fmt.Errorf("version must not contain control characters")
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
