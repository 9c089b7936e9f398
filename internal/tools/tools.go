//go:build vetted_pins

// Package tools pins, for go mod tidy, the modules that the project depends on before
// every one of them is imported by production code. It is never built.
package tools

import (
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/anchore/syft/syft"
	_ "github.com/chromedp/chromedp"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/danielgtaylor/huma/v2"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/osv-scalibr/semantic"
	_ "github.com/google/osv-scanner/v2/pkg/osvscanner"
	_ "github.com/google/uuid"
	_ "github.com/gowebpki/jcs"
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/modelcontextprotocol/registry/pkg/api/v0"
	_ "github.com/openvex/go-vex/pkg/vex"
	_ "github.com/pandatix/go-cvss/40"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/secure-systems-lab/go-securesystemslib/dsse"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
	_ "github.com/sigstore/sigstore/pkg/signature"
	_ "github.com/spdx/tools-golang/spdx"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/time/rate"
	_ "modernc.org/sqlite"
	_ "sigs.k8s.io/yaml"
)
