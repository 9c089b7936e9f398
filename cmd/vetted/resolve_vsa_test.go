package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/attest/vsa"
)

// resolve --verify wants the VSA of a PyPI release to name every verified file: a VSA that
// names only the first file (a client may install the other) is refused.
func TestCheckVSAPyPIEveryFile(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := vsa.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	whl, sd, tools := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	r := &Resolved{Name: "io.github.acme/weather", Version: "1.0.0", ToolManifestDigest: "sha256:" + tools,
		Packages: []ResolvedPackage{{RegistryType: "pypi", Identifier: "weather-mcp", Digest: "sha256:" + whl, Files: []ResolvedFile{
			{Filename: "weather_mcp-1.0.0-py3-none-any.whl", SHA256: "sha256:" + whl},
			{Filename: "weather_mcp-1.0.0.tar.gz", SHA256: "sha256:" + sd}}}}}
	sign := func(digests ...string) []byte {
		st := vsa.Statement{Predicate: vsa.Predicate{ResourceURI: "mcp:io.github.acme/weather@1.0.0", VerificationResult: "PASSED"}}
		for _, d := range digests {
			st.Subject = append(st.Subject, vsa.Subject{Name: "x", Digest: map[string]string{"sha256": d}})
		}
		env, err := s.Sign(st)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	if err := checkVSA(sign(whl, sd, tools), &key.PublicKey, r); err != nil {
		t.Fatalf("every file and the tools: %v", err)
	}
	if err := checkVSA(sign(whl, tools), &key.PublicKey, r); err == nil || !strings.Contains(err.Error(), "are not the resolved digests") {
		t.Fatalf("only the first file: %v", err)
	}
	if err := checkVSA(sign(whl, sd, sd, tools), &key.PublicKey, r); err == nil {
		t.Fatal("a subject twice")
	}
}
