package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds a fetched key set (the guarded transport bounds it too); fetchTimeout
// bounds discovery plus JWKS.
const (
	maxJWKSBytes = 1 << 20
	fetchTimeout = 20 * time.Second
)

// keySource finds an issuer's verification keys by key id ("" means every key).
type keySource interface {
	keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error)
}

// usableKeys keeps the public signature keys of supported types: RSA (2048 bits or more),
// ECDSA P-256, Ed25519. Symmetric keys ("oct") and encryption keys never verify a token.
func usableKeys(in []jose.JSONWebKey) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range in {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				continue
			}
		case *ecdsa.PublicKey:
			if pk.Curve != elliptic.P256() {
				continue
			}
		case ed25519.PublicKey:
		default:
			continue
		}
		out = append(out, k)
	}
	return out
}

func selectKeys(set []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	if kid == "" {
		return set
	}
	var out []jose.JSONWebKey
	for _, k := range set {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// staticKeys is a fixed key set: the embedded issuer's.
type staticKeys struct{ set []jose.JSONWebKey }

func (s staticKeys) keys(_ context.Context, kid string) ([]jose.JSONWebKey, error) {
	if ks := selectKeys(s.set, kid); len(ks) > 0 {
		return ks, nil
	}
	return nil, authnErr(ReasonUnknownKey, fmt.Sprintf("signed by a key this registry does not know (another data directory?): no key with id %q; issue tokens with the data directory `vetted serve` uses", kid), nil)
}

// remoteKeys is an issuer's JWKS, found by discovery unless configured, cached for maxAge,
// and refreshed early when a token names a key id it does not hold — at most once per
// minRefresh, so that tokens with made-up key ids cannot make Vetted hammer the issuer.
// Fetches are serialized and never hold up verifications with keys already known.
type remoteKeys struct {
	issuer     string
	jwksURL    string
	client     *http.Client
	now        func() time.Time
	minRefresh time.Duration
	maxAge     time.Duration
	logger     *slog.Logger

	fetchMu    sync.Mutex  // one fetch at a time
	refreshing atomic.Bool // a background refresh is running

	mu        sync.Mutex // guards what follows
	set       []jose.JSONWebKey
	fetchedAt time.Time
	triedAt   time.Time
	lastErr   error
	fetches   int // for tests and metrics
}

func (r *remoteKeys) current() (set []jose.JSONWebKey, stale bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set, r.set == nil || r.now().Sub(r.fetchedAt) >= r.maxAge
}

func (r *remoteKeys) keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	set, stale := r.current()
	if set != nil {
		if ks := selectKeys(set, kid); len(ks) > 0 {
			if stale && r.refreshing.CompareAndSwap(false, true) {
				go func() { // logged; the current keys serve meanwhile
					defer r.refreshing.Store(false)
					_, _ = r.refresh(context.WithoutCancel(ctx))
				}()
			}
			return ks, nil
		}
		if kid == "" {
			return nil, authnErr(ReasonUnknownKey, "the issuer's key set is empty", nil)
		}
	}
	// No keys yet, or an unknown key id: fetch now, at most once per minRefresh.
	fetched, err := r.refresh(ctx)
	set, _ = r.current()
	if set == nil {
		if err == nil {
			err = authnErr(ReasonKeysUnavailable, "no keys fetched yet for "+r.issuer, nil)
		}
		return nil, err
	}
	if ks := selectKeys(set, kid); len(ks) > 0 {
		return ks, nil
	}
	if kid == "" {
		return nil, authnErr(ReasonUnknownKey, "the issuer's key set is empty", nil)
	}
	if !fetched {
		return nil, authnErr(ReasonUnknownKey, fmt.Sprintf("no key with id %q (key set refresh rate-limited)", kid), nil)
	}
	return nil, authnErr(ReasonUnknownKey, fmt.Sprintf("no key with id %q", kid), err)
}

// refresh fetches the key set unless a fetch was tried less than minRefresh ago. It reports
// whether it fetched, and the error of the last fetch.
func (r *remoteKeys) refresh(ctx context.Context) (bool, error) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	r.mu.Lock()
	now := r.now()
	if !r.triedAt.IsZero() && now.Sub(r.triedAt) < r.minRefresh {
		err := r.lastErr
		r.mu.Unlock()
		return false, err
	}
	r.triedAt = now
	r.fetches++
	r.mu.Unlock()

	// The fetch serves every later request too: a client that hangs up must not cancel it
	// (and so make the issuer unavailable until the next refresh).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	set, err := r.fetch(fctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = authnErr(ReasonKeysUnavailable, "cannot fetch the keys of "+r.issuer, err)
		r.logger.LogAttrs(ctx, slog.LevelWarn, "issuer keys unavailable", slog.String("issuer", r.issuer), slog.String("error", err.Error()))
		return true, r.lastErr
	}
	r.set, r.fetchedAt, r.lastErr = set, now, nil
	r.logger.LogAttrs(ctx, slog.LevelInfo, "issuer keys fetched", slog.String("issuer", r.issuer), slog.Int("keys", len(set)))
	return true, nil
}

func (r *remoteKeys) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	jwksURL := r.jwksURL
	if jwksURL == "" {
		// Discovery; go-oidc requires the document's issuer to equal ours exactly.
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, r.client), r.issuer)
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&meta); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		if meta.JWKSURI == "" {
			return nil, fmt.Errorf("discovery: no jwks_uri")
		}
		jwksURL = meta.JWKSURI
	}
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("jwks_uri %q is not an http(s) URL", jwksURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	return usableKeys(set.Keys), nil
}

func (r *remoteKeys) fetchCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}
