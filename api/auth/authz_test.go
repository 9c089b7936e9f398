package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		name    string
		want    bool
	}{
		{"io.github.acme/*", "io.github.acme/weather", true},
		{"io.github.acme/*", "io.github.acme-evil/x", false},
		{"io.github.acme/*", "io.github.other/x", false},
		{"io.github.acme/*", "io.github.acme.evil/x", false},
		{"io.github.acme/*", "evil.io.github.acme/x", false},
		{"io.github.acme/*", "IO.GITHUB.ACME/x", false},
		{"io.github.acme/*", "io.github.acme/", false},
		{"io.github.acme/*", "io.github.acme/a/b", false},
		{"io.github.acme/*", "io.github.acme", false},
		{"io.github.acme/*", "io.github.acme/x y", false},
		{"io.github.acme/*", "io.github.acme/x\n", false},
		{"io.github.acme/weather", "io.github.acme/weather", true},
		{"io.github.acme/weather", "io.github.acme/weather2", false},
		{"io.github.acme/weather", "io.github.acme/Weather", false},
	}
	for _, tc := range tests {
		p := MustParsePattern(tc.pattern)
		if got := p.Match(tc.name); got != tc.want {
			t.Errorf("%s matches %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"", "*", "*/*", "io.github.*/x", "io.github.acme/w*", "io.github.acme", "io.github.acme/*/*", "io.github.acme/x/y", "io.github acme/*", "/x"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted", bad)
		}
	}
	if (Pattern{}).Match("/") || (Pattern{}).Match("a/b") {
		t.Error("the zero pattern matches")
	}
}

func TestAuthorize(t *testing.T) {
	acme := &Principal{Issuer: "i", Subject: "s", Roles: []Role{RolePublisher}, Namespaces: []Pattern{MustParsePattern("io.github.acme/*")}}
	tests := []struct {
		name   string
		p      *Principal
		perm   Permission
		res    string
		reason string // "" = allowed
		status int
	}{
		{"nil principal", nil, PermRead, "", "no principal", 401},
		{"anonymous reader reads", Anonymous(true), PermRead, "", "", 0},
		{"anonymous without read", Anonymous(false), PermRead, "", "authentication required", 401},
		{"anonymous publish", Anonymous(true), PermPublish, "io.github.acme/x", "authentication required", 401},
		{"publisher reads", acme, PermRead, "", "", 0},
		{"publisher publishes", acme, PermPublish, "io.github.acme/x", "", 0},
		{"publisher without name", acme, PermPublish, "", "requires a server name", 403},
		{"publisher elsewhere", acme, PermPublish, "io.github.acme-evil/x", "not in the caller's namespaces [io.github.acme/*]", 403},
		{"publisher reviews", acme, PermReview, "", "none of the caller's roles [publisher]", 403},
		{"publisher administers", acme, PermAdmin, "", "none of the caller's roles", 403},
		{"publisher without namespaces", &Principal{Roles: []Role{RolePublisher}}, PermPublish, "a.b/c", "may publish in no namespace", 403},
		{"unknown permission", &Principal{Roles: []Role{RoleAdmin}}, Permission("delete"), "", "unknown permission", 403},
		{"admin publishes anywhere", &Principal{Roles: []Role{RoleAdmin}}, PermPublish, "io.github.other/x", "", 0},
		{"reviewer reviews", &Principal{Roles: []Role{RoleReviewer}}, PermReview, "", "", 0},
		{"no roles", &Principal{}, PermRead, "", "none of the caller's roles []", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Authorize(tc.p, tc.perm, tc.res)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			var de *DeniedError
			if !errors.As(err, &de) || !errors.Is(err, ErrForbidden) {
				t.Fatalf("want *DeniedError, got %v", err)
			}
			if !strings.Contains(de.Reason, tc.reason) || de.Permission != tc.perm || de.GetStatus() != tc.status {
				t.Fatalf("denial %+v (status %d): want reason %q, permission %q, status %d", de, de.GetStatus(), tc.reason, tc.perm, tc.status)
			}
		})
	}
}

func TestMapClaims(t *testing.T) {
	gh := "https://token.actions.githubusercontent.com"
	cfg := IssuerConfig{Issuer: gh}
	var rules []compiledRule
	for _, r := range []PublisherRule{
		{Namespace: "io.github.acme/*", Issuer: gh, Claims: map[string]string{"repository_owner": "acme"}},
		{Namespace: "io.github.acme/weather", Issuer: gh, Claims: map[string]string{
			"repository": "acme/weather", "workflow_ref": "acme/weather/.github/workflows/release.yml@refs/heads/main",
			"ref": "refs/heads/main", "runner_environment": "github-hosted"}},
		{Namespace: "io.github.beta/*", Issuer: "https://other.example.com", Claims: map[string]string{"repository_owner": "beta"}},
	} {
		cr, err := compileRule(r)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, cr)
	}
	pinned := map[string]any{"repository": "acme/weather", "workflow_ref": "acme/weather/.github/workflows/release.yml@refs/heads/main",
		"ref": "refs/heads/main", "runner_environment": "github-hosted"}
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"owner rule", map[string]any{"repository_owner": "acme"}, []string{"io.github.acme/*"}},
		{"pinned rule", pinned, []string{"io.github.acme/weather"}},
		{"pinned rule on a self-hosted runner", with(pinned, "runner_environment", "self-hosted"), nil},
		{"pinned rule from another branch", with(pinned, "ref", "refs/heads/dev"), nil},
		{"pinned rule from another workflow", with(pinned, "workflow_ref", "acme/weather/.github/workflows/evil.yml@refs/heads/main"), nil},
		{"owner in other case", map[string]any{"repository_owner": "ACME"}, nil},
		{"owner with whitespace", map[string]any{"repository_owner": "acme "}, nil},
		{"owner as number", map[string]any{"repository_owner": 1}, nil},
		{"rule of another issuer", map[string]any{"repository_owner": "beta"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mapClaims(cfg, rules, "s", time.Time{}, tc.claims)
			var got []string
			for _, n := range p.Namespaces {
				got = append(got, n.String())
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("namespaces %v, want %v", got, tc.want)
			}
			if p.HasRole(RolePublisher) != (len(tc.want) > 0) {
				t.Fatalf("publisher role %v with namespaces %v", p.Roles, got)
			}
		})
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// FuzzPattern: whatever the pattern and name, a match means the name is exactly in the
// pattern's namespace.
func FuzzPattern(f *testing.F) {
	f.Add("io.github.acme/*", "io.github.acme/weather")
	f.Add("io.github.acme/*", "io.github.acme-evil/x")
	f.Add("io.github.acme/x", "io.github.acme/x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		if q, err := ParsePattern(p.String()); err != nil || q != p {
			t.Fatalf("round trip of %q: %v, %v", pattern, q, err)
		}
		if !p.Match(name) {
			return
		}
		ns, rest, _ := strings.Cut(name, "/")
		if ns+"/*" != p.String() && name != p.String() {
			t.Fatalf("%q matched %q", pattern, name)
		}
		if rest == "" || strings.Contains(rest, "/") || !nameRe.MatchString(rest) {
			t.Fatalf("%q matched malformed name %q", pattern, name)
		}
	})
}

// FuzzMapClaims: whatever claims a token of the GitHub-like issuer carries, it may publish
// only what a rule whose every condition holds grants, and it never gets roles it was not
// mapped to.
func FuzzMapClaims(f *testing.F) {
	f.Add([]byte(`{"repository_owner":"acme"}`))
	f.Add([]byte(`{"repository_owner":"acme-evil","groups":["sec","ops"]}`))
	f.Add([]byte(`{"repository_owner":["acme"],"groups":"ops","vetted_namespaces":["io.github.other/*"]}`))
	f.Add([]byte(`{"repository":"acme/weather","ref":"refs/heads/main","groups":[1,null,{}]}`))
	issuer := "https://token.actions.githubusercontent.com"
	cfg := IssuerConfig{Issuer: issuer, RolesClaim: "groups", RoleMapping: map[string]Role{"sec": RoleReviewer}}
	r1, _ := compileRule(PublisherRule{Namespace: "io.github.acme/*", Issuer: issuer, Claims: map[string]string{"repository_owner": "acme"}})
	r2, _ := compileRule(PublisherRule{Namespace: "io.github.acme/weather", Issuer: issuer, Claims: map[string]string{"repository": "acme/weather", "ref": "refs/heads/main"}})
	rules := []compiledRule{r1, r2}
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		p := mapClaims(cfg, rules, "sub", time.Time{}, claims)
		owner, _ := claims["repository_owner"].(string)
		repo, _ := claims["repository"].(string)
		ref, _ := claims["ref"].(string)
		pinned := repo == "acme/weather" && ref == "refs/heads/main"
		for _, name := range []string{"io.github.acme/weather", "io.github.acme/x", "io.github.acme-evil/x", "io.github.other/x"} {
			err := Authorize(p, PermPublish, name)
			want := (owner == "acme" && strings.HasPrefix(name, "io.github.acme/")) || (pinned && name == "io.github.acme/weather")
			if (err == nil) != want {
				t.Fatalf("claims %s: publish %s allowed=%v, want %v (principal %+v)", data, name, err == nil, want, p)
			}
		}
		for _, r := range p.Roles {
			switch r {
			case RolePublisher:
			case RoleReviewer:
				found := false
				for _, g := range stringsOf(claims["groups"]) {
					found = found || g == "sec"
				}
				if !found {
					t.Fatalf("reviewer without the sec group: %s", data)
				}
			default:
				t.Fatalf("unexpected role %s from %s", r, data)
			}
		}
	})
}

func TestDisplayNameAndActor(t *testing.T) {
	for _, tc := range []struct {
		claims map[string]any
		name   string
	}{
		{map[string]any{"email": "alice@example.com", "preferred_username": "alice", "name": "Alice A."}, "alice@example.com"},
		{map[string]any{"preferred_username": "alice", "name": "Alice A."}, "alice"},
		{map[string]any{"email": "", "name": "Alice A."}, "Alice A."},
		{map[string]any{"email": 42, "name": "Alice\n\x1b[31mA."}, "Alice[31mA."},
		{map[string]any{"name": strings.Repeat("é", 200)}, strings.Repeat("é", 128)},
		{map[string]any{}, ""},
	} {
		p := &Principal{Issuer: "https://idp.example.com", Subject: "CiQxMTEx", Claims: tc.claims}
		if got := p.DisplayName(); got != tc.name {
			t.Errorf("DisplayName(%v) = %q, want %q", tc.claims, got, tc.name)
		}
		want := "https://idp.example.com|CiQxMTEx"
		if tc.name != "" {
			want += " (" + tc.name + ")"
		}
		if got := p.Actor(); got != want {
			t.Errorf("Actor() = %q, want %q", got, want)
		}
	}
	if (&Principal{Anonymous: true}).Actor() != "" {
		t.Error("the anonymous caller has an actor")
	}
}
