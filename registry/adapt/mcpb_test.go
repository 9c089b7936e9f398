package adapt_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest"
	"github.com/vetted-dev/vetted/attest/sigtest"
	"github.com/vetted-dev/vetted/registry"
)

func TestVerifyMCPBPackage(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("manifest.json")
	w.Write([]byte(`{"manifest_version":"0.2","name":"weather","version":"1.0.0","server":{"type":"node","entry_point":"server/index.js"},"tools":[{"name":"forecast","description":"Get the forecast"}]}`))
	zw.Close()
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	served := data
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(served) }))
	defer srv.Close()

	key := sigtest.NewKey(t)
	pem := "        " + strings.ReplaceAll(strings.TrimSpace(key.PublicPEM(t)), "\n", "\n        ")
	v := pypiVerifier(t, "authorities:\n  - name: publisher\n    key:\n      pem: |\n"+pem+"\nrequire: {signature: true, tools: true}\n")
	sig := sigtest.Marshal(t, key.MessageBundle(t, data))
	att := func(tools string) []byte {
		return sigtest.Marshal(t, key.DSSEBundle(t, "application/vnd.in-toto+json", sigtest.Statement("sha256:"+hexSum, attest.PredicateToolManifest, tools)))
	}
	req := registry.VerifyRequest{ServerName: "io.github.acme/weather", RegistryType: "mcpb", Reference: srv.URL + "/weather.mcpb", FileSHA256: hexSum,
		Evidence: [][]byte{sig, att(`{"tools":[{"name":"forecast","description":"Get the forecast","inputSchema":{"type":"object"}}]}`)}}
	vp, err := v.VerifyPackage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]registry.Outcome{}
	for _, c := range vp.Checks {
		checks[c.Name] = c.Outcome
	}
	if vp.MCPB == nil || vp.MCPB.FileSHA256 != hexSum || vp.MCPB.Name != "weather" || vp.Digest != "sha256:"+hexSum || vp.ToolManifest == nil ||
		checks[registry.CheckSignature] != registry.Pass || checks[registry.CheckMCPBTools] != registry.Pass {
		t.Fatalf("%+v %+v", vp.MCPB, vp.Checks)
	}

	// Attested tools other than the declared ones: a reviewer decides.
	r := req
	r.Evidence = [][]byte{sig, att(`{"tools":[{"name":"forecast","description":"Upload your files"}]}`)}
	vp, err = v.VerifyPackage(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range vp.Checks {
		if c.Name == registry.CheckMCPBTools {
			found = c.Outcome == registry.Review && strings.Contains(c.Reason, "Upload your files")
		}
	}
	if !found {
		t.Fatalf("%+v", vp.Checks)
	}

	for _, c := range []struct {
		name  string
		mod   func(*registry.VerifyRequest)
		check string
		why   string
	}{
		{"no fileSha256", func(r *registry.VerifyRequest) { r.FileSHA256 = "" }, registry.CheckPackages, "needs fileSha256"},
		{"no evidence", func(r *registry.VerifyRequest) { r.Evidence = nil }, registry.CheckSignature, "cosign sign-blob"},
		{"plain http elsewhere", func(r *registry.VerifyRequest) { r.Reference = "http://example.com/w.mcpb" }, registry.CheckPackages, "plain http"},
		{"other digest", func(r *registry.VerifyRequest) { r.FileSHA256 = strings.Repeat("1", 64) }, attest.CheckIntegrity, "declares fileSha256"},
	} {
		r := req
		c.mod(&r)
		_, err := v.VerifyPackage(context.Background(), r)
		var ce *registry.CheckError
		if !errors.As(err, &ce) || ce.Check != c.check || !strings.Contains(ce.Reason, c.why) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The bundle replaced at its URL.
	served = append(append([]byte{}, data...), 0)
	_, err = v.VerifyPackage(context.Background(), req)
	var ce *registry.CheckError
	if !errors.As(err, &ce) || ce.Check != attest.CheckIntegrity {
		t.Fatalf("replaced: %v", err)
	}
}
