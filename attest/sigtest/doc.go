// Package sigtest builds real Sigstore bundles in process for Vetted's tests: keyless bundles
// signed by sign.Bundle with ephemeral keys, certificates from a test Fulcio CA that can carry
// any Fulcio extension, and log entries and timestamps from sigstore-go's virtual Sigstore
// (pkg/testing/ca); key-signed bundles; and cosign's legacy layouts. It also pushes images
// and their attachments into go-containerregistry's in-process registry.
package sigtest
