package auth

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// IssuerConfig is one trusted token issuer and how its claims map to roles.
type IssuerConfig struct {
	// Issuer is the exact "iss" value (no normalization: a trailing slash is a different
	// issuer) and the base of OIDC discovery.
	Issuer string `json:"issuer"`
	// JWKSURL, when set, is used instead of discovery.
	JWKSURL string `json:"jwks_url,omitempty"`
	// DefaultRoles are granted to every valid token of this issuer. Leave empty for shared
	// issuers such as GitHub Actions, whose tokens anyone can obtain.
	DefaultRoles []Role `json:"default_roles,omitempty"`
	// RolesClaim names a claim holding a string or a list of strings (e.g. "groups").
	RolesClaim string `json:"roles_claim,omitempty"`
	// RoleMapping maps values of RolesClaim to roles; unmapped values grant nothing.
	RoleMapping map[string]Role `json:"role_mapping,omitempty"`
	// NamespacesClaim names a claim listing namespace patterns this issuer vouches for
	// (used by the embedded issuer). Patterns only take effect with the publisher role.
	NamespacesClaim string `json:"namespaces_claim,omitempty"`
	// Audiences are the "aud" values accepted from this issuer, any one of them, instead of
	// the registry's audience: for a provider that cannot put the registry's URL in "aud"
	// (an Entra application ID URI such as api://vetted, a Dex client trusted as a peer, the
	// UI's OIDC client id). Each must name this registry alone: never a value that other
	// services accept too. Empty: the registry's audience.
	Audiences []string `json:"audiences,omitempty"`
	// AllowHTTPLoopback admits a plain-http Issuer (and JWKSURL) on a loopback address
	// (http://127.0.0.1:…, http://[::1]:…, http://localhost:…), for local testing only. It
	// never admits plain http to any other host.
	AllowHTTPLoopback bool `json:"allow_http_loopback,omitempty"`
}

// PublisherRule grants the publisher role on Namespace to tokens of Issuer whose claims
// equal every entry of Claims exactly (string claims only). For GitHub Actions:
// Claims{"repository_owner": "acme"}, optionally pinning "repository", "workflow_ref", "ref",
// "runner_environment".
type PublisherRule struct {
	Namespace string            `json:"namespace"`
	Issuer    string            `json:"issuer"`
	Claims    map[string]string `json:"claims"`
}

type compiledRule struct {
	pattern Pattern
	issuer  string
	claims  map[string]string
}

func compileRule(r PublisherRule) (compiledRule, error) {
	p, err := ParsePattern(r.Namespace)
	if err != nil {
		return compiledRule{}, fmt.Errorf("publisher rule: %w", err)
	}
	if r.Issuer == "" {
		return compiledRule{}, fmt.Errorf("publisher rule for %s: issuer is required", r.Namespace)
	}
	if len(r.Claims) == 0 {
		return compiledRule{}, fmt.Errorf("publisher rule for %s: at least one claim condition is required (e.g. repository_owner)", r.Namespace)
	}
	for k, v := range r.Claims {
		if k == "" || v == "" {
			return compiledRule{}, fmt.Errorf("publisher rule for %s: empty claim name or value", r.Namespace)
		}
	}
	return compiledRule{pattern: p, issuer: r.Issuer, claims: r.Claims}, nil
}

// matches reports whether every condition holds: the claim is present, is a JSON string,
// and equals the expected value byte for byte.
func (r compiledRule) matches(issuer string, claims map[string]any) bool {
	if issuer != r.issuer {
		return false
	}
	for k, want := range r.claims {
		got, ok := claims[k].(string)
		if !ok || got != want {
			return false
		}
	}
	return true
}

func validateIssuerConfig(c IssuerConfig) error {
	if c.Issuer == "" {
		return errors.New("issuer: empty issuer")
	}
	for _, r := range c.DefaultRoles {
		if _, err := ParseRole(string(r)); err != nil {
			return fmt.Errorf("issuer %s: default_roles: %w", c.Issuer, err)
		}
	}
	for _, a := range c.Audiences {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("issuer %s: audiences: empty value", c.Issuer)
		}
	}
	if len(c.RoleMapping) > 0 && c.RolesClaim == "" {
		return fmt.Errorf("issuer %s: role_mapping needs roles_claim", c.Issuer)
	}
	for v, r := range c.RoleMapping {
		if _, err := ParseRole(string(r)); err != nil {
			return fmt.Errorf("issuer %s: role_mapping[%q]: %w", c.Issuer, v, err)
		}
	}
	return nil
}

// stringsOf returns a claim's value as strings: a string, or the strings of a list.
func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// mapClaims derives the principal of a verified token. It is pure: same inputs, same
// principal. Anything it does not recognize grants nothing.
func mapClaims(c IssuerConfig, rules []compiledRule, subject string, expires time.Time, claims map[string]any) *Principal {
	p := &Principal{Issuer: c.Issuer, Subject: subject, Claims: claims, ExpiresAt: expires}
	roles := map[Role]bool{}
	for _, r := range c.DefaultRoles {
		roles[r] = true
	}
	if c.RolesClaim != "" {
		for _, v := range stringsOf(claims[c.RolesClaim]) {
			if r, ok := c.RoleMapping[v]; ok {
				roles[r] = true
			}
		}
	}
	seen := map[string]bool{}
	addPattern := func(pat Pattern) {
		if !seen[pat.String()] {
			seen[pat.String()] = true
			p.Namespaces = append(p.Namespaces, pat)
		}
	}
	if c.NamespacesClaim != "" {
		for _, v := range stringsOf(claims[c.NamespacesClaim]) {
			if pat, err := ParsePattern(v); err == nil {
				addPattern(pat)
			}
		}
	}
	for _, r := range rules {
		if r.matches(c.Issuer, claims) {
			roles[RolePublisher] = true
			addPattern(r.pattern)
		}
	}
	for _, r := range Roles {
		if roles[r] {
			p.Roles = append(p.Roles, r)
		}
	}
	sort.Slice(p.Namespaces, func(i, j int) bool { return p.Namespaces[i].String() < p.Namespaces[j].String() })
	if !slices.Contains(p.Roles, RolePublisher) && !slices.Contains(p.Roles, RoleAdmin) {
		p.Namespaces = nil
	}
	return p
}
