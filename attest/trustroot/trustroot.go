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
	_, tr, err := FetchPublicGoodJSON(o)
	return tr, err
}

// FetchPublicGoodJSON is FetchPublicGood that also returns the trusted_root.json target
// exactly as the TUF repository serves it (after its length and hashes were verified against
// the signed targets metadata), so it can be written to a file byte for byte.
func FetchPublicGoodJSON(o FetchOptions) ([]byte, *root.TrustedRoot, error) {
	if o.Transport == nil {
		return nil, nil, errors.New("trusted root refresh: a transport is required")
	}
	f := fetcher.NewDefaultFetcher()
	if err := f.SetTransport(o.Transport); err != nil {
		return nil, nil, fmt.Errorf("trusted root refresh: %w", err)
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
	client, err := tuf.New(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("trusted root refresh: TUF client: %w", err)
	}
	data, err := client.GetTarget(targetName)
	if err != nil {
		return nil, nil, fmt.Errorf("trusted root refresh: %s: %w", targetName, err)
	}
	if len(data) > MaxSize {
		return nil, nil, fmt.Errorf("trusted root refresh: %s larger than %d bytes", targetName, MaxSize)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, nil, fmt.Errorf("trusted root refresh: %s: %w", targetName, err)
	}
	return data, tr, nil
}

// targetName is the TUF target holding the trusted root.
const targetName = "trusted_root.json"
