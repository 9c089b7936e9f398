package oci

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound what discovery reads from a registry.
type Limits struct {
	// MaxManifestBytes caps any manifest or referrers index (default 4 MiB).
	MaxManifestBytes int64
	// MaxBlobBytes caps any blob: bundles, DSSE envelopes, payloads (default 32 MiB).
	MaxBlobBytes int64
	// MaxCandidates caps the signatures and attestations considered for one image (default 64).
	MaxCandidates int
	// MaxLayers caps the layers of one cosign .sig/.att manifest (default 32).
	MaxLayers int
	// MaxReferrerPages caps the pages of one referrers API answer that are followed through
	// Link rel="next" headers (default 16); each page is bounded by MaxManifestBytes.
	MaxReferrerPages int
	// Timeout bounds the whole resolution and discovery (default 2 minutes).
	Timeout time.Duration
}

// DefaultLimits are the limits used when none are set.
var DefaultLimits = Limits{
	MaxManifestBytes: 4 << 20,
	MaxBlobBytes:     32 << 20,
	MaxCandidates:    64,
	MaxLayers:        32,
	MaxReferrerPages: 16,
	Timeout:          2 * time.Minute,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxManifestBytes > 0 {
		d.MaxManifestBytes = l.MaxManifestBytes
	}
	if l.MaxBlobBytes > 0 {
		d.MaxBlobBytes = l.MaxBlobBytes
	}
	if l.MaxCandidates > 0 {
		d.MaxCandidates = l.MaxCandidates
	}
	if l.MaxLayers > 0 {
		d.MaxLayers = l.MaxLayers
	}
	if l.MaxReferrerPages > 0 {
		d.MaxReferrerPages = l.MaxReferrerPages
	}
	if l.Timeout > 0 {
		d.Timeout = l.Timeout
	}
	return d
}

// ErrLimit is wrapped by LimitError.
var ErrLimit = errors.New("registry content exceeds a limit")

// LimitError says which bound a registry's content broke.
type LimitError struct {
	What  string // e.g. "blob sha256:…", "referrers of sha256:…"
	Limit int64
	Got   int64 // -1 when unknown (the body was longer than the limit)
	Unit  string
}

func (e *LimitError) Error() string {
	if e.Got < 0 {
		return fmt.Sprintf("%s: more than %d %s", e.What, e.Limit, e.Unit)
	}
	return fmt.Sprintf("%s: %d %s, limit %d", e.What, e.Got, e.Unit, e.Limit)
}

func (e *LimitError) Unwrap() error { return ErrLimit }

// ErrRegistry is wrapped by errors about registry responses that are wrong (digest mismatch,
// malformed manifest), as opposed to transport failures.
var ErrRegistry = errors.New("bad registry response")
