//go:build ignore

// gen derives public_good.json from the trusted_root.json TUF target embedded in the
// github.com/sigstore/sigstore module pinned by go.mod. Run with `go generate ./attest/trustroot`.
package main

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/root"
)

func main() {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/sigstore/sigstore").Output()
	if err != nil {
		log.Fatalf("go list: %v", err)
	}
	dir := string(bytes.TrimSpace(out))
	src := filepath.Join(dir, "pkg", "tuf", "repository", "targets", "trusted_root.json")
	data, err := os.ReadFile(src)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		log.Fatalf("sigstore-go rejects %s: %v", src, err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.RekorLogs()) == 0 || len(tr.CTLogs()) == 0 {
		log.Fatalf("%s lacks Fulcio, Rekor or CT material", src)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		log.Fatal(err)
	}
	buf.WriteByte('\n')
	if err := os.WriteFile("public_good.json", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
