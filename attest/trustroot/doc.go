// Package trustroot provides the Sigstore trust roots Vetted verifies against: the
// public-good trusted_root.json shipped inside the binary (so verification works offline and
// reproducibly), a refresh of it from the Sigstore TUF repository when online, and private
// roots read from a file.
//
// The shipped file is derived, not copied: `go generate` runs gen.go, which takes the
// trusted_root.json target that github.com/sigstore/sigstore embeds from the Sigstore TUF
// repository, checks that sigstore-go parses it, and writes public_good.json.
package trustroot
