package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Blob is a piece of evidence (a Sigstore bundle, an in-toto statement, an SBOM, a tool
// manifest, a report) stored once under the sha256 of its bytes.
type Blob struct {
	// Digest is "sha256:<hex>" of Data.
	Digest string `json:"digest"`
	// MediaType says what Data is (e.g. "application/vnd.dev.sigstore.bundle.v0.3+json").
	MediaType string `json:"mediaType"`
	// Data is the blob's bytes.
	Data []byte `json:"-"`
}

// NewBlob returns the Blob for data, its digest computed.
func NewBlob(mediaType string, data []byte) Blob {
	return Blob{Digest: Digest(data), MediaType: mediaType, Data: data}
}

// Check reports whether b.Digest is the sha256 of b.Data.
func (b Blob) Check() error {
	if got := Digest(b.Data); got != b.Digest {
		return fmt.Errorf("blob %s: content hashes to %s: %w", b.Digest, got, ErrInvalid)
	}
	return nil
}

// Digest returns "sha256:<hex>" of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ValidDigest reports whether d has the form "sha256:<64 lowercase hex>".
func ValidDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
