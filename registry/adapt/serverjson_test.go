package adapt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/adapt"
)

func pemBlock(t *testing.T, k *sigtest.Key) string {
	return strings.ReplaceAll(strings.TrimSpace(k.PublicPEM(t)), "\n", "\n        ")
}

// require.serverJSON end to end: the real verifier, real bundles, a real store.
func TestPipelineServerJSONBinding(t *testing.T) {
	f := newE2E(t)
	ci := sigtest.NewKey(t)
	pol, err := attest.ParsePolicy([]byte("authorities:\n  - name: release-key\n    key:\n      pem: |\n        " + pemBlock(t, f.key) +
		"\n  - name: ci\n    key:\n      pem: |\n        " + pemBlock(t, ci) +
		"\nrequire: {signature: true, sbom: true, tools: true, serverJSON: true}\nsigners: {serverJSON: [ci], signature: [release-key], sbom: [release-key], tools: [release-key]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := adapt.NewVerifier([]adapt.NamespacePolicy{{Pattern: "io.github.acme/*", Policy: pol, Name: "acme"}}, attest.WithInsecureRegistries(f.reg.Host))
	if err != nil {
		t.Fatal(err)
	}
	p, err := registry.NewPipeline(f.store, v, f.sc, adapt.NewToolInspector(), registry.WithServerJSONVerifier(v))
	if err != nil {
		t.Fatal(err)
	}
	ref := f.push(t, "1.0.0", true, f.key, spdx("4.17.21"), toolsV1)
	body := serverJSON("1.0.0", ref)
	cd, _ := registry.CanonicalContentDigest(body)
	canonical := canonicalJSON(t, body)
	publish := func(bundle []byte) registry.PublishResult {
		t.Helper()
		res, err := p.Publish(context.Background(), registry.PublishRequest{ServerJSON: body, Actor: "test|ci", ServerJSONBundle: bundle,
			Authorizer: registry.AuthorizerFunc(func(string) error { return nil })})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for name, c := range map[string]struct {
		bundle []byte
		reason string
	}{
		"none sent":               {nil, "its RFC 8785 digest is " + cd},
		"signed by the image key": {sigtest.Marshal(t, f.key.MessageBundle(t, canonical)), "authority"},
		"over another document":   {sigtest.Marshal(t, ci.MessageBundle(t, canonicalJSON(t, serverJSON("1.0.1", ref)))), "subject"},
		"not a bundle":            {[]byte(`{"x":1}`), "bundle"},
	} {
		t.Run(name, func(t *testing.T) {
			res := publish(c.bundle)
			if res.Decision != registry.DecisionRejected || !hasCheck(res.Checks, registry.CheckServerJSONSignature, registry.Fail, c.reason) {
				t.Fatalf("%s %v", res.Decision, res.Checks)
			}
		})
	}
	res := publish(sigtest.Marshal(t, ci.MessageBundle(t, canonical)))
	if res.Decision != registry.DecisionPublished || !hasCheck(res.Checks, registry.CheckServerJSONSignature, registry.Pass, `signed by authority "ci"`) {
		t.Fatalf("%s %v", res.Decision, res.Checks)
	}
	if !strings.Contains(string(res.Version.Vetted), `"for":"serverJSON"`) {
		t.Errorf("signer not served: %s", res.Version.Vetted)
	}
	rec, err := f.store.VersionRecord(context.Background(), registry.Key{Name: "io.github.acme/weather", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{}
	for _, e := range rec.Evidence {
		roles[e.Role] = true
	}
	if !roles["signed-serverjson"] || !roles["serverjson-verification"] || !roles["launch-report"] {
		t.Errorf("evidence roles %v", roles)
	}
}

func canonicalJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	c, err := registry.CanonicalJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
