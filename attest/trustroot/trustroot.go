package trustroot

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

//go:generate go run gen.go

//go:embed public_good.json
var publicGoodJSON []byte

// MaxSize bounds a trusted root read from a file.
const MaxSize = 4 << 20

var (
	publicGoodOnce sync.Once
	publicGood     *root.TrustedRoot
	publicGoodErr  error
)

// PublicGood returns the Sigstore public-good trusted root shipped with Vetted.
func PublicGood() (*root.TrustedRoot, error) {
	publicGoodOnce.Do(func() {
		publicGood, publicGoodErr = root.NewTrustedRootFromJSON(publicGoodJSON)
	})
	return publicGood, publicGoodErr
}

// PublicGoodJSON returns the shipped public-good trusted_root.json bytes.
func PublicGoodJSON() []byte { return append([]byte(nil), publicGoodJSON...) }

// FromFile reads a private trusted_root.json.
func FromFile(name string) (*root.TrustedRoot, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("trusted root %s: larger than %d bytes", name, MaxSize)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", name, err)
	}
	return tr, nil
}

// FetchOptions configure a TUF refresh.
type FetchOptions struct {
	// Transport carries the TUF requests (the guarded outbound transport). Required.
	Transport http.RoundTripper
	// MirrorURL defaults to https://tuf-repo-cdn.sigstore.dev.
	MirrorURL string
	// CacheDir holds TUF metadata between runs; empty keeps it in memory.
	CacheDir string
	// Root is the TUF root.json to start from; default: the Sigstore root embedded in
	// sigstore-go.
	Root []byte
}

// FetchPublicGood refreshes the public-good trusted root from the Sigstore TUF repository,
// verifying the TUF metadata chain from the root embedded in sigstore-go.
func FetchPublicGood(o FetchOptions) (*root.TrustedRoot, error) {
	if o.Transport == nil {
		return nil, errors.New("trusted root refresh: a transport is required")
	}
	f := fetcher.NewDefaultFetcher()
	if err := f.SetTransport(o.Transport); err != nil {
		return nil, fmt.Errorf("trusted root refresh: %w", err)
	}
	opts := tuf.DefaultOptions().WithFetcher(f)
	if o.MirrorURL != "" {
		opts = opts.WithRepositoryBaseURL(o.MirrorURL)
	}
	if len(o.Root) > 0 {
		opts = opts.WithRoot(o.Root)
	}
	if o.CacheDir != "" {
		opts = opts.WithCachePath(o.CacheDir)
	} else {
		opts = opts.WithDisableLocalCache()
	}
	tr, err := root.FetchTrustedRootWithOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("trusted root refresh: %w", err)
	}
	return tr, nil
}
