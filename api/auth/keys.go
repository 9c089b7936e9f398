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

// remoteKeys is an issuer's JWKS, found by discovery unless configured.
//
//   - A fetched key set is trusted for maxAge: a key the issuer has dropped stops verifying at
//     most maxAge after the last fetch that listed it. From maxAge/2 on, a verification that
//     uses the set starts one background fetch; past maxAge the set is fetched before use,
//     and while it cannot be, the issuer's tokens are refused (fail closed).
//   - A token naming a key id the set lacks (the issuer rotated) makes the verification wait
//     for one fetch that starts after it arrived, so a new key verifies at once.
//   - Fetch starts are at least minRefresh apart and concurrent needs share one fetch: tokens
//     with made-up key ids cannot make Vetted hammer the issuer, only wait up to minRefresh.
//   - flush forgets the set (an admin operation, SIGHUP).
type remoteKeys struct {
	issuer     string
	jwksURL    string
	client     *http.Client
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	minRefresh time.Duration
	maxAge     time.Duration
	logger     *slog.Logger

	mu        sync.Mutex // guards what follows
	set       []jose.JSONWebKey
	fetchedAt time.Time  // when the fetch of set started; zero: no set
	lastStart time.Time  // when the last fetch started; zero: none since start or flush
	last      *fetchCall // the last finished fetch
	inflight  *fetchCall // the fetch running now
	fetches   int        // for tests and metrics
}

// fetchCall is one fetch of the key set, shared by everyone who waits for it.
type fetchCall struct {
	started time.Time
	done    chan struct{}
	err     error
}

// snapshot returns the current set and its age; ok is false when there is none.
func (r *remoteKeys) snapshot() (set []jose.JSONWebKey, age time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fetchedAt.IsZero() {
		return nil, 0, false
	}
	return r.set, r.now().Sub(r.fetchedAt), true
}

func (r *remoteKeys) keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	arrived := r.now()
	if set, age, ok := r.snapshot(); ok && age < r.maxAge {
		if ks := selectKeys(set, kid); len(ks) > 0 {
			if age >= r.maxAge/2 {
				r.refreshInBackground(ctx)
			}
			return ks, nil
		}
		if kid == "" {
			return nil, authnErr(ReasonUnknownKey, "the issuer's key set is empty", nil)
		}
	}
	// No keys yet, keys too old, or an unknown key id: wait for a fetch newer than this request.
	err := r.fetchSince(ctx, arrived)
	set, age, ok := r.snapshot()
	if !ok || age >= r.maxAge {
		if err == nil {
			err = authnErr(ReasonKeysUnavailable, "no current keys for "+r.issuer, nil)
		}
		return nil, err
	}
	if ks := selectKeys(set, kid); len(ks) > 0 {
		return ks, nil
	}
	if err != nil {
		return nil, err
	}
	if kid == "" {
		return nil, authnErr(ReasonUnknownKey, "the issuer's key set is empty", nil)
	}
	return nil, authnErr(ReasonUnknownKey, fmt.Sprintf("no key with id %q in the issuer's current key set", kid), nil)
}

// refreshInBackground starts one fetch unless one is running or the last started less than
// minRefresh ago; the current keys serve meanwhile.
func (r *remoteKeys) refreshInBackground(ctx context.Context) {
	r.mu.Lock()
	now := r.now()
	busy := r.inflight != nil || (!r.lastStart.IsZero() && now.Sub(r.lastStart) < r.minRefresh)
	r.mu.Unlock()
	if !busy {
		go func() { _ = r.fetchSince(context.WithoutCancel(ctx), now) }() // logged by run
	}
}

// fetchSince returns once a fetch that started at or after since has finished, starting one
// when needed (at least minRefresh after the last start, waiting for that if need be), and
// returns that fetch's error.
func (r *remoteKeys) fetchSince(ctx context.Context, since time.Time) error {
	waited := false
	for {
		r.mu.Lock()
		if r.last != nil && !r.last.started.Before(since) {
			err := r.last.err
			r.mu.Unlock()
			return err
		}
		if c := r.inflight; c != nil {
			r.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return authnErr(ReasonKeysUnavailable, "gave up waiting for the keys of "+r.issuer, ctx.Err())
			}
			if !c.started.Before(since) {
				return c.err
			}
			continue
		}
		if !waited && !r.lastStart.IsZero() {
			if wait := r.lastStart.Add(r.minRefresh).Sub(r.now()); wait > 0 {
				r.mu.Unlock()
				if err := r.sleep(ctx, wait); err != nil {
					return authnErr(ReasonKeysUnavailable, "gave up waiting for the keys of "+r.issuer, err)
				}
				waited = true
				continue
			}
		}
		c := &fetchCall{started: r.now(), done: make(chan struct{})}
		if c.started.Before(since) { // a clock that went backwards
			c.started = since
		}
		r.inflight, r.lastStart = c, c.started
		r.fetches++
		r.mu.Unlock()
		r.run(ctx, c)
		return c.err
	}
}

// run performs fetch c. The fetch serves every later request too: a client that hangs up must
// not cancel it (and so make the issuer unavailable until the next one).
func (r *remoteKeys) run(ctx context.Context, c *fetchCall) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	set, err := r.fetch(fctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		c.err = authnErr(ReasonKeysUnavailable, "cannot fetch the keys of "+r.issuer, err)
		r.logger.LogAttrs(ctx, slog.LevelWarn, "issuer keys unavailable", slog.String("issuer", r.issuer), slog.String("error", err.Error()))
	} else {
		r.set, r.fetchedAt = set, c.started
		r.logger.LogAttrs(ctx, slog.LevelInfo, "issuer keys fetched", slog.String("issuer", r.issuer), slog.Int("keys", len(set)))
	}
	r.last, r.inflight = c, nil
	close(c.done)
}

// flush forgets the key set and the refresh interval: the next verification fetches at once.
func (r *remoteKeys) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set, r.fetchedAt, r.lastStart, r.last = nil, time.Time{}, time.Time{}, nil
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
