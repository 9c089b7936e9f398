package vex_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vetted-dev/vetted/scan/vex"
)

const doc = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/2024-001",
  "author": "Security Team",
  "timestamp": "2024-01-01T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "GHSA-xvch-5gv4-984h", "aliases": ["CVE-2021-44906"]},
     "products": [{"@id": "pkg:oci/weather@sha256%3Aaaaa", "subcomponents": [{"@id": "pkg:npm/minimist@0.0.8"}]}],
     "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vulnerability": {"name": "CVE-2020-7598"},
     "products": [{"@id": "io.github.acme/weather@1.2.0"}],
     "status": "under_investigation"},
    {"vulnerability": {"name": "GHSA-6fc8-4gx4-v693"},
     "products": [{"@id": "io.github.acme/weather"}],
     "status": "fixed", "expires": "2024-06-01T00:00:00Z"},
    {"vulnerability": {"name": "GHSA-6fc8-4gx4-v693"},
     "timestamp": "2023-01-01T00:00:00Z",
     "products": [{"@id": "io.github.acme/weather"}],
     "status": "affected", "action_statement": "upgrade ws"}
  ]
}`

func TestLookup(t *testing.T) {
	stmts, err := vex.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	set := vex.NewSet(stmts...)
	prod := vex.Product{Digest: "sha256:aaaa", Name: "io.github.acme/weather", Version: "1.2.0"}
	before, after := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		prod   vex.Product
		vulns  []string
		pkgs   []string
		now    time.Time
		status string // "" = no statement
	}{
		{"digest in a percent-encoded purl, alias id", prod, []string{"GHSA-xvch-5gv4-984h"}, []string{"pkg:npm/minimist@0.0.8"}, before, "not_affected"},
		{"matched through the statement's alias", prod, []string{"CVE-2021-44906"}, []string{"pkg:npm/minimist@0.0.8"}, before, "not_affected"},
		{"subcomponent must match", prod, []string{"GHSA-xvch-5gv4-984h"}, []string{"pkg:npm/minimist@1.2.5"}, before, ""},
		{"other image digest", vex.Product{Digest: "sha256:bbbb"}, []string{"GHSA-xvch-5gv4-984h"}, []string{"pkg:npm/minimist@0.0.8"}, before, ""},
		{"name@version", prod, []string{"CVE-2020-7598"}, nil, before, "under_investigation"},
		{"other version", vex.Product{Name: "io.github.acme/weather", Version: "1.3.0"}, []string{"CVE-2020-7598"}, nil, before, ""},
		{"latest statement wins", prod, []string{"GHSA-6fc8-4gx4-v693"}, nil, before, "fixed"},
		{"expired statement no longer applies", prod, []string{"GHSA-6fc8-4gx4-v693"}, nil, after, "affected"},
		{"other vulnerability", prod, []string{"GHSA-0000"}, nil, before, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := set.Lookup(tc.prod, tc.vulns, tc.pkgs, tc.now)
			got := ""
			if st != nil {
				got = st.Status
				if st.Document != "https://example.com/vex/2024-001" || st.Author != "Security Team" {
					t.Errorf("statement provenance %+v", st)
				}
			}
			if got != tc.status {
				t.Fatalf("status %q, want %q", got, tc.status)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"not JSON", `{`, "invalid OpenVEX"},
		{"not OpenVEX", `{"@context":"https://example.com","statements":[]}`, "is not OpenVEX"},
		{"no statements", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[]}`, "no statements"},
		{"not_affected without justification", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"p"}],"status":"not_affected"}]}`, "statement 0"},
		{"bad status", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"p"}],"status":"maybe"}]}`, "statement 0"},
		{"no product", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"status":"fixed"}]}`, "no product"},
		{"bad expiry", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"products":[{"@id":"p"}],"status":"fixed","expires":"soon"}]}`, "expires"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vex.Parse([]byte(tc.in))
			if !errors.Is(err, vex.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalid with %q", err, tc.msg)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(doc))
	f.Fuzz(func(t *testing.T, data []byte) {
		stmts, err := vex.Parse(data)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if s.Vulnerability == "" || len(s.Products) == 0 || s.Status == "" {
				t.Fatalf("accepted an incomplete statement: %+v", s)
			}
		}
		vex.NewSet(stmts...).Lookup(vex.Product{Digest: "sha256:aaaa", Name: "n", Version: "1"}, []string{"X"}, []string{"pkg:npm/a@1"}, time.Now())
	})
}
