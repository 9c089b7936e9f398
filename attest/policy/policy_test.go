package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const issuePolicy = `
authorities:
  - name: release-key
    key: {path: cosign.pub}
  - name: ci
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/weather/.github/workflows/release.yml@refs/heads/main
require: {signature: true, sbom: true, provenance: false, tools: false}
tlog: {required: false}
`

func TestParseIssueShape(t *testing.T) {
	p, err := Parse([]byte(issuePolicy))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Authorities) != 2 || p.Authorities[0].Key.Path != "cosign.pub" || p.Authorities[1].Keyless.Issuer != "https://token.actions.githubusercontent.com" {
		t.Errorf("authorities %+v", p.Authorities)
	}
	if !p.Require.Signature || !p.Require.SBOM || p.Require.Provenance || p.Require.Tools {
		t.Errorf("require %+v", p.Require)
	}
	if p.TlogThreshold() != 0 || p.SCTThreshold() != 1 {
		t.Errorf("thresholds: tlog %d sct %d", p.TlogThreshold(), p.SCTThreshold())
	}
}

func TestParseErrors(t *testing.T) {
	const key = "authorities:\n  - name: k\n    key: {pem: x}\n"
	cases := []struct{ name, doc, want string }{
		{"empty", "", "empty document"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
		{"unknown top-level field", key + "requires: {signature: true}\n", "requires: unknown field"},
		{"unknown nested field with its path", "authorities:\n  - name: ci\n    keyless: {issuer: x, subjct: y}\n", "authorities[0].keyless.subjct: unknown field"},
		{"unknown extension pin", "authorities:\n  - name: ci\n    keyless: {issuer: x, subject: y, extensions: {repo: z}}\n", "authorities[0].keyless.extensions.repo: unknown field"},
		{"duplicate key", key + "require: {sbom: true}\nrequire: {sbom: false}\n", `key "require" already set`},
		{"wrong type", key + "require: {signature: maybe}\n", "require.signature: expected true or false"},
		{"wrong type in list", key + "builders: [{id: x}]\n", "builders[0]: expected a string"},
		{"no authorities", "require: {signature: true}\n", "authorities: at least one"},
		{"nameless authority", "authorities:\n  - key: {pem: x}\n", "authorities[0].name: required"},
		{"duplicate authority", "authorities:\n  - name: a\n    key: {pem: x}\n  - name: a\n    key: {pem: zz}\n", `duplicate authority "a"`},
		{"key and keyless", "authorities:\n  - name: a\n    key: {pem: x}\n    keyless: {issuer: i, subject: s}\n", "exactly one of key or keyless"},
		{"key path and pem", "authorities:\n  - name: a\n    key: {pem: x, path: zz}\n", "exactly one of path or pem"},
		{"keyless without issuer", "authorities:\n  - name: a\n    keyless: {subject: s}\n", "keyless.issuer: required"},
		{"keyless without subject", "authorities:\n  - name: a\n    keyless: {issuer: i}\n", "exactly one of subject or subjectRegExp"},
		{"subject and regexp", "authorities:\n  - name: a\n    keyless: {issuer: i, subject: s, subjectRegExp: s}\n", "exactly one of subject or subjectRegExp"},
		{"bad regexp", "authorities:\n  - name: a\n    keyless: {issuer: i, subjectRegExp: '('}\n", "subjectRegExp: error parsing regexp"},
		{"self-hosted runner pin", "authorities:\n  - name: a\n    keyless: {issuer: i, subject: s, extensions: {runnerEnvironment: self-hosted}}\n", `only "github-hosted"`},
		{"unknown signer kind", key + "signers: {binary: [k]}\n", "signers.binary: unknown evidence kind"},
		{"unknown signer", key + "signers: {sbom: [nobody]}\n", `signers.sbom[0]: no authority named "nobody"`},
		{"empty signer list", key + "signers: {sbom: []}\n", "signers.sbom: empty list"},
		{"threshold without required", key + "tlog: {threshold: 2}\n", "tlog.threshold: set tlog.required"},
		{"negative threshold", key + "timestamps: {threshold: -1}\n", "must not be negative"},
		{"sct contradiction", key + "sct: {threshold: 1, unsafeSkip: true}\n", "contradict"},
		{"bad ref pattern", key + "refs: ['refs/heads/[']\n", "refs[0]: bad pattern"},
		{"bad time", "authorities:\n  - name: a\n    key: {pem: x, validUntil: yesterday}\n", "not RFC 3339"},
		{"window inverted", "authorities:\n  - name: a\n    key: {pem: x, validFrom: 2025-01-01T00:00:00Z, validUntil: 2024-01-01T00:00:00Z}\n", "validUntil must be after validFrom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			if err == nil {
				t.Fatal("parsed, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
		})
	}
}

func TestPolicyHelpers(t *testing.T) {
	p, err := Parse([]byte("authorities:\n  - name: k\n    key: {pem: x}\nrefs: [refs/heads/main, refs/tags/v*]\nbuilders: [b1]\ntlog: {required: true, threshold: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]bool{"refs/heads/main": true, "refs/tags/v1.2.3": true, "refs/heads/main2": false, "refs/tags/x": false, "": false} {
		if got := p.RefAllowed(ref); got != want {
			t.Errorf("RefAllowed(%q) = %v", ref, got)
		}
	}
	if !p.BuilderAllowed("b1") || p.BuilderAllowed("b2") || p.TlogThreshold() != 2 {
		t.Error("builders or tlog threshold")
	}
	if AnchorRegExp("a|b") != "^(?:a|b)$" {
		t.Error(AnchorRegExp("a|b"))
	}
}

func TestParseFileResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(f, []byte("authorities:\n  - name: k\n    key: {path: cosign.pub}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Resolve("cosign.pub"); got != filepath.Join(dir, "cosign.pub") {
		t.Errorf("Resolve = %s", got)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file parsed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(issuePolicy))
	f.Add([]byte("authorities:\n  - name: a\n    keyless: {issuer: i, subjectRegExp: '.*'}\nsigners: {sbom: [a]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		_ = p.RefAllowed("refs/heads/main")
	})
}
