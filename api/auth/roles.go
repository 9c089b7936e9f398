package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Role is a coarse grant held by a principal.
type Role string

// The roles. A publisher may publish only the namespaces its rules or token grant.
const (
	RoleReader    Role = "reader"
	RolePublisher Role = "publisher"
	RoleReviewer  Role = "reviewer"
	RoleAdmin     Role = "admin"
)

// Roles lists every role, in order of increasing power.
var Roles = []Role{RoleReader, RolePublisher, RoleReviewer, RoleAdmin}

// ParseRole returns the role named s, or an error naming the valid ones.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want reader, publisher, reviewer or admin)", s)
}

// Permission is what an operation needs. Every operation declares one.
type Permission string

// The permissions.
const (
	// PermRead: read published servers and versions.
	PermRead Permission = "read"
	// PermPublish: publish a version in a namespace (the resource is the server name).
	PermPublish Permission = "publish"
	// PermReview: the security team's operations (queue, decisions, VEX, reports, audit).
	PermReview Permission = "review"
	// PermAdmin: operating the registry itself.
	PermAdmin Permission = "admin"
)

// grants is which roles carry which permission; admin carries all of them.
var grants = map[Permission][]Role{
	PermRead:    {RoleReader, RolePublisher, RoleReviewer, RoleAdmin},
	PermPublish: {RolePublisher, RoleAdmin},
	PermReview:  {RoleReviewer, RoleAdmin},
	PermAdmin:   {RoleAdmin},
}

// Principal is an authenticated identity (or the anonymous caller) and what it was granted.
type Principal struct {
	// Anonymous is true when the request carried no token.
	Anonymous bool
	// Issuer and Subject identify the token's holder ("iss", "sub").
	Issuer  string
	Subject string
	// Roles granted, sorted, without duplicates.
	Roles []Role
	// Namespaces are the patterns a publisher may publish.
	Namespaces []Pattern
	// Claims are the verified token's claims (for provenance of who published); never logged.
	Claims map[string]any
	// ExpiresAt is the token's expiry.
	ExpiresAt time.Time
}

// Anonymous returns the principal of a request without a token: a reader when
// anonymousRead, nothing otherwise.
func Anonymous(anonymousRead bool) *Principal {
	p := &Principal{Anonymous: true}
	if anonymousRead {
		p.Roles = []Role{RoleReader}
	}
	return p
}

// ID is the principal's stable identity for logs and rate limits: "anonymous" or
// "<issuer>#<subject>".
func (p *Principal) ID() string {
	if p == nil || p.Anonymous {
		return "anonymous"
	}
	return p.Issuer + "#" + p.Subject
}

// DisplayName is the holder's name for people to read: the token's "email", else
// "preferred_username", else "name" (the first that is a non-empty string), cleaned of
// control characters and cut to 128 characters; "" when the token has none. It comes from
// the token as the issuer wrote it: show it, never authorize with it.
func (p *Principal) DisplayName() string {
	if p == nil {
		return ""
	}
	for _, c := range []string{"email", "preferred_username", "name"} {
		s, _ := p.Claims[c].(string)
		s = strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || r == unicode.ReplacementChar {
				return -1
			}
			return r
		}, s))
		if s == "" {
			continue
		}
		if r := []rune(s); len(r) > 128 {
			s = string(r[:128])
		}
		return s
	}
	return ""
}

// Actor is how the audit chain names the holder: "<issuer>|<subject>", followed by
// " (<display name>)" when the token has one. The issuer and subject identify; the name
// only helps a person reading the chain.
func (p *Principal) Actor() string {
	if p == nil || p.Anonymous {
		return ""
	}
	a := p.Issuer + "|" + p.Subject
	if d := p.DisplayName(); d != "" {
		a += " (" + d + ")"
	}
	return a
}

// HasRole reports whether p holds r.
func (p *Principal) HasRole(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

func (p *Principal) hasPermission(perm Permission) bool {
	for _, r := range grants[perm] {
		if p.HasRole(r) {
			return true
		}
	}
	return false
}

// DeniedError is an authorization refusal. Anonymous callers get it as a 401 (they should
// authenticate), others as a 403.
type DeniedError struct {
	// Principal is the ID of who was refused.
	Principal string
	// Anonymous is true when the caller sent no token.
	Anonymous bool
	// Permission is the missing permission.
	Permission Permission
	// Resource is what it was asked on (a server name for publish), or "".
	Resource string
	// Reason says why, for the caller and the audit log.
	Reason string

	challenge string // RFC 9728 metadata URL for WWW-Authenticate
}

func (e *DeniedError) Error() string {
	on := ""
	if e.Resource != "" {
		on = " on " + e.Resource
	}
	return fmt.Sprintf("permission %q denied%s: %s", e.Permission, on, e.Reason)
}

// Authorize decides whether p may do perm on resource (the server name for PermPublish,
// otherwise usually ""). It returns nil or a *DeniedError; there is no other outcome.
func Authorize(p *Principal, perm Permission, resource string) error {
	return authorize(p, perm, resource, true)
}

// AuthorizeAny decides whether p holds perm for at least some resource: the check an
// operation makes before it knows the resource (a publisher with no namespace at all holds
// no publish permission). The handler then calls Authorize (or Require) with the resource.
func AuthorizeAny(p *Principal, perm Permission) error {
	return authorize(p, perm, "", false)
}

func authorize(p *Principal, perm Permission, resource string, scoped bool) error {
	deny := func(reason string) error {
		return &DeniedError{Principal: p.ID(), Anonymous: p == nil || p.Anonymous, Permission: perm, Resource: resource, Reason: reason}
	}
	if p == nil {
		return deny("no principal")
	}
	if _, known := grants[perm]; !known {
		return deny("unknown permission")
	}
	if !p.hasPermission(perm) {
		if p.Anonymous {
			return deny("authentication required")
		}
		return deny(fmt.Sprintf("none of the caller's roles [%s] grants it", joinRoles(p.Roles)))
	}
	if perm != PermPublish || p.HasRole(RoleAdmin) {
		return nil
	}
	if !scoped {
		if len(p.Namespaces) == 0 {
			return deny("the caller may publish in no namespace")
		}
		return nil
	}
	if resource == "" {
		return deny("publishing requires a server name")
	}
	for _, pat := range p.Namespaces {
		if pat.Match(resource) {
			return nil
		}
	}
	if len(p.Namespaces) == 0 {
		return deny("the caller may publish in no namespace")
	}
	return deny(fmt.Sprintf("not in the caller's namespaces [%s]", joinPatterns(p.Namespaces)))
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}

func joinPatterns(ps []Pattern) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}
