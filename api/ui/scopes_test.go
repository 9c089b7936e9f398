package ui

import (
	"slices"
	"testing"
)

// The default scopes come from the configuration; explicit scopes win.
func TestOIDCScopes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         OIDC
		supported []string
		want      []string
	}{
		{"no claims mapped", OIDC{}, []string{"openid", "groups"}, []string{"openid", "profile", "email"}},
		{"groups offered", OIDC{ClaimScopes: []string{"groups"}}, []string{"openid", "email", "groups"}, []string{"openid", "profile", "email", "groups"}},
		{"groups not offered", OIDC{ClaimScopes: []string{"groups"}}, []string{"openid", "email"}, []string{"openid", "profile", "email"}},
		{"nothing listed: groups still asked", OIDC{ClaimScopes: []string{"groups"}}, nil, []string{"openid", "profile", "email", "groups"}},
		{"nothing listed: another claim not asked", OIDC{ClaimScopes: []string{"vetted_namespaces"}}, nil, []string{"openid", "profile", "email"}},
		{"both claims offered", OIDC{ClaimScopes: []string{"roles", "groups", "roles"}}, []string{"roles", "groups"}, []string{"openid", "profile", "email", "roles", "groups"}},
		{"a standard claim", OIDC{ClaimScopes: []string{"email"}}, []string{"email"}, []string{"openid", "profile", "email"}},
		{"explicit scopes win", OIDC{Scopes: []string{"openid", "sso-groups"}, ClaimScopes: []string{"groups"}}, []string{"groups"}, []string{"openid", "sso-groups"}},
	} {
		if got := tc.o.scopes(tc.supported); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if !slices.Equal(DefaultScopes, []string{"openid", "profile", "email"}) {
		t.Fatal("the defaults changed")
	}
}
