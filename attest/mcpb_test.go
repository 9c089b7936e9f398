package attest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
)

func mcpbBundle(t *testing.T, manifest string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{"manifest.json": manifest, "server/index.js": "console.log('hi')"} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const mcpbManifest = `{"manifest_version":"0.2","name":"weather","version":"1.0.0","server":{"type":"node","entry_point":"server/index.js"},"tools":[{"name":"forecast","description":"Get the forecast"}]}`

// An MCP bundle: the declared fileSha256 checked, the manifest read, the publisher's
// signature over the digest required (whatever the policy requires), SBOM and tool-manifest
// attestations over the digest counted; anything foreign refuses it.
func TestMCPBVerify(t *testing.T) {
	data := mcpbBundle(t, mcpbManifest)
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	key, other := sigtest.NewKey(t), sigtest.NewKey(t)
	pol := "authorities:\n  - name: publisher\n    key:\n      pem: |\n" + indent(key.PublicPEM(t), "        ") + "require: {sbom: true}\n"
	v := npmVerifier(t, pol)
	sig := attest.SuppliedEvidence{Name: "sig.bundle", Bundle: sigtest.Marshal(t, key.MessageBundle(t, data))}
	sbom := attest.SuppliedEvidence{Name: "sbom.bundle", Bundle: sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement("sha256:"+hexSum, attest.PredicateSPDX, spdxDoc)))}
	tools := attest.SuppliedEvidence{Name: "tools.bundle", Bundle: sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement("sha256:"+hexSum, attest.PredicateToolManifest, toolsDoc)))}
	b := &attest.MCPBBundle{URL: "https://example.com/weather.mcpb", SHA256: hexSum, Data: data}

	res, err := v.VerifyMCPB(b, attest.WithEvidence(sig, sbom, tools))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.Manifest == nil || res.Manifest.Name != "weather" || res.SBOM == nil || res.ToolManifest == nil ||
		res.Artifact.Type != attest.ArtifactMCPB || res.Digest != "sha256:"+hexSum {
		t.Fatalf("%s", res.Summary())
	}
	cases := []struct {
		name   string
		b      *attest.MCPBBundle
		ev     []attest.SuppliedEvidence
		check  string
		reason string
	}{
		{"no signature", b, []attest.SuppliedEvidence{sbom}, attest.CheckRequireSignature, "no verified signature"},
		{"foreign signature", b, []attest.SuppliedEvidence{{Name: "other.bundle", Bundle: sigtest.Marshal(t, other.MessageBundle(t, data))}, sbom}, attest.CheckSignature, "supplied other.bundle"},
		{"signature over other bytes", b, []attest.SuppliedEvidence{{Name: "else.bundle", Bundle: sigtest.Marshal(t, key.MessageBundle(t, []byte("x")))}, sbom}, attest.CheckSubject, "supplied else.bundle"},
		{"declared digest differs", &attest.MCPBBundle{URL: b.URL, SHA256: strings.Repeat("0", 64), Data: data}, []attest.SuppliedEvidence{sig, sbom}, attest.CheckIntegrity, "declares fileSha256 " + strings.Repeat("0", 64)},
		{"no manifest", &attest.MCPBBundle{URL: b.URL, SHA256: hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("PK\x05\x06" + strings.Repeat("\x00", 18))); return s[:] }()), Data: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, nil, attest.CheckMCPBManifest, "no manifest.json"},
	}
	for _, c := range cases {
		res, err := v.VerifyMCPB(c.b, attest.WithEvidence(c.ev...))
		if err != nil {
			t.Fatal(err)
		}
		if res.Passed || res.Failures[0].Check != c.check || !strings.Contains(res.Failures[0].Reason, c.reason) {
			t.Errorf("%s:\n%s", c.name, res.Summary())
		}
	}

	// Fetched from a URL: the served bytes must hash to the declared digest.
	served := data
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(served) }))
	defer srv.Close()
	fr, got, err := v.FetchMCPB(context.Background(), srv.URL+"/weather.mcpb", hexSum, attest.WithEvidence(sig, sbom))
	if err != nil || !fr.Passed || !bytes.Equal(got, data) {
		t.Fatalf("%v %s", err, fr.Summary())
	}
	served = mcpbBundle(t, strings.Replace(mcpbManifest, "Get the forecast", "Read ~/.ssh", 1))
	fr, _, err = v.FetchMCPB(context.Background(), srv.URL+"/weather.mcpb", hexSum, attest.WithEvidence(sig, sbom))
	if err != nil || fr.Passed || fr.Failures[0].Check != attest.CheckIntegrity {
		t.Fatalf("replaced bundle: %v %s", err, fr.Summary())
	}
}
