package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func reasonOf(err error) Reason {
	var ae *AuthnError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ""
}

// The issuer rotates its key: a token signed with the new key verifies at once, even right
// after another fetch (it waits for the next fetch slot instead of being refused), and the
// rotated-out key is refused.
func TestKeyRotationAcceptedAtOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	pub := func(k testKey) response {
		return h.do(t, "POST", "/v0.1/publish", sign(t, k, h.claims()), publishBody("io.github.acme/weather"))
	}
	if r := pub(h.k1); r.status != 200 {
		t.Fatalf("k1: %d %s", r.status, r.body)
	}
	if n := h.idp.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	h.idp.rotate(h.k2)
	h.clock.Advance(time.Second) // well inside the 5 s between fetches
	if r := pub(h.k2); r.status != 200 {
		t.Fatalf("new key right after rotation: %d %+v", r.status, r.problem)
	}
	if n := h.idp.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
	if d := time.Duration(h.slept.Load()); d != 4*time.Second {
		t.Fatalf("waited %v for the fetch slot, want 4s (5s after the previous fetch)", d)
	}
	// The rotated-out k1 is refused: its key id is in no current key set.
	r := pub(h.k1)
	if r.status != 401 || r.problem.Reason != string(ReasonUnknownKey) || !strings.Contains(r.problem.Detail, `"k1"`) {
		t.Fatalf("rotated-out k1: %d %+v", r.status, r.problem)
	}
	if h.writes.Load() != 2 {
		t.Fatalf("writes = %d, want 2", h.writes.Load())
	}
}

// Tokens with made-up key ids (a flood, concurrent) share fetches: at most one fetch per
// 5 s, and every one of them is refused as an unknown key.
func TestUnknownKeyIDsRateBounded(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims())); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		tok := sign(t, newTestKey(t, "bogus"+string(rune('A'+i)), jose.ES256), h.claims())
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.verifier.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if reasonOf(err) != ReasonUnknownKey {
			t.Fatalf("bogus key id: %v, want %s", err, ReasonUnknownKey)
		}
	}
	// The burst needs one fetch after its arrival; a straggler that arrived after that fetch
	// started may need one more. Never one per token.
	if n := h.idp.jwksHits.Load(); n < 2 || n > 3 {
		t.Fatalf("JWKS fetched %d times for 50 bogus key ids, want 2 or 3", n)
	}
	// A burst of tokens with the issuer's new key: all verify, with one fetch.
	before := h.idp.jwksHits.Load()
	h.idp.rotate(h.k1, h.k2)
	h.clock.Advance(time.Minute)
	tok := sign(t, h.k2, h.claims())
	errs = make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.verifier.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("new key after rotation: %v", err)
		}
	}
	if n := h.idp.jwksHits.Load() - before; n != 1 {
		t.Fatalf("JWKS fetched %d times for the burst, want 1", n)
	}
}

// A provider that merely claims the same issuer (its own keys, even the same key id) is
// refused: the keys come from the configured issuer's discovery only.
func TestLookAlikeIssuerRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims())); err != nil {
		t.Fatal(err)
	}
	sameKid := newTestKey(t, "k1", jose.RS256)
	otherKid := newTestKey(t, "lookalike-1", jose.RS256)
	evil := newTestIssuer(t, "idp.example.com", sameKid, otherKid) // same name, another server
	evil.discovered = h.idp.issuer
	for _, tc := range []struct {
		k    testKey
		want Reason
	}{{sameKid, ReasonSignature}, {otherKid, ReasonUnknownKey}} {
		_, err := h.verifier.Verify(context.Background(), sign(t, tc.k, h.claims()))
		if reasonOf(err) != tc.want {
			t.Fatalf("look-alike token with kid %s: %v, want %s", tc.k.kid, err, tc.want)
		}
	}
	if evil.jwksHits.Load() != 0 || evil.discoveryHits.Load() != 0 {
		t.Fatal("the look-alike provider was contacted")
	}
}

// A key the issuer dropped stops verifying within the configured max age (10 min here):
// from half of it a use refreshes in the background, past it the set is fetched before use.
func TestDroppedKeyRefusedWithinMaxAge(t *testing.T) {
	t.Run("background refresh from half the max age", func(t *testing.T) {
		h := newHarness(t, harnessOpts{})
		if _, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims())); err != nil {
			t.Fatal(err)
		}
		h.idp.rotate(h.k1) // k3 dropped
		h.clock.Advance(4 * time.Minute)
		if _, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims())); err != nil {
			t.Fatalf("k3 within half the max age: %v", err)
		}
		if n := h.idp.jwksHits.Load(); n != 1 {
			t.Fatalf("JWKS fetched %d times before half the max age, want 1", n)
		}
		h.clock.Advance(2 * time.Minute) // 6 min: still trusted, refreshed in the background
		if _, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims())); err != nil {
			t.Fatalf("k3 between half and the max age: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for h.verifier.issuers[h.idp.issuer].keys.(*remoteKeys).fetchCount() < 2 || h.inflight() {
			if time.Now().After(deadline) {
				t.Fatal("no background refresh")
			}
			time.Sleep(5 * time.Millisecond)
		}
		_, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims()))
		if reasonOf(err) != ReasonUnknownKey {
			t.Fatalf("dropped k3 after the refresh: %v, want %s", err, ReasonUnknownKey)
		}
	})
	t.Run("past the max age without use", func(t *testing.T) {
		h := newHarness(t, harnessOpts{})
		if _, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims())); err != nil {
			t.Fatal(err)
		}
		h.idp.rotate(h.k1)
		h.clock.Advance(10 * time.Minute)
		_, err := h.verifier.Verify(context.Background(), sign(t, h.k3, h.claims()))
		if reasonOf(err) != ReasonUnknownKey {
			t.Fatalf("dropped k3 at the max age: %v, want %s", err, ReasonUnknownKey)
		}
		if n := h.idp.jwksHits.Load(); n != 2 {
			t.Fatalf("JWKS fetched %d times, want 2", n)
		}
		// k1, still published, verifies; with the issuer gone past the max age nothing does.
		if _, err := h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims())); err != nil {
			t.Fatal(err)
		}
		h.idp.srv.Close()
		h.clock.Advance(11 * time.Minute)
		_, err = h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims()))
		if reasonOf(err) != ReasonKeysUnavailable {
			t.Fatalf("keys past the max age with the issuer down: %v, want %s (fail closed)", err, ReasonKeysUnavailable)
		}
	})
}

// FlushKeys forgets the fetched keys: the next token fetches at once, without waiting for
// the fetch interval. The embedded issuer's fixed keys are not flushed.
func TestFlushKeys(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims())); err != nil {
		t.Fatal(err)
	}
	if got := h.verifier.FlushKeys(); len(got) != 1 || got[0] != h.idp.issuer {
		t.Fatalf("flushed %v, want [%s]", got, h.idp.issuer)
	}
	if _, err := h.verifier.Verify(context.Background(), sign(t, h.k1, h.claims())); err != nil {
		t.Fatal(err)
	}
	if n := h.idp.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (flush forces a fetch)", n)
	}
	if h.slept.Load() != 0 {
		t.Fatalf("waited %v after a flush, want no wait", time.Duration(h.slept.Load()))
	}
}

func (h *harness) inflight() bool {
	rk := h.verifier.issuers[h.idp.issuer].keys.(*remoteKeys)
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.inflight != nil
}

// allow_http_loopback admits http only on loopback addresses; nothing else does.
func TestAllowHTTPLoopback(t *testing.T) {
	for _, tc := range []struct {
		issuer string
		allow  bool
		want   string // "" accepted
	}{
		{"http://127.0.0.1:5556/dex", true, ""},
		{"http://[::1]:5556", true, ""},
		{"http://localhost:5556", true, ""},
		{"http://127.0.0.1:5556", false, "must be an https URL"},
		{"http://idp.example.com", true, "only on a loopback address"},
		{"http://10.0.0.1", true, "only on a loopback address"},
		{"http://127.0.0.1.nip.io", true, "only on a loopback address"},
		{"ftp://127.0.0.1", true, "must be an https URL"},
	} {
		_, err := NewVerifier(testAudience, WithIssuer(IssuerConfig{Issuer: tc.issuer, AllowHTTPLoopback: tc.allow}))
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s (allow_http_loopback %v): %v, want %q", tc.issuer, tc.allow, err, tc.want)
		}
	}
	// A JWKS URL is held to the same rule.
	_, err := NewVerifier(testAudience, WithIssuer(IssuerConfig{Issuer: "http://127.0.0.1:5556", JWKSURL: "http://keys.example.com/jwks", AllowHTTPLoopback: true}))
	if err == nil || !strings.Contains(err.Error(), "only on a loopback address") {
		t.Fatalf("http JWKS URL off loopback: %v", err)
	}
}

// An issuer's audiences replace the registry's audience for its tokens (any one suffices,
// in a multi-valued aud too); other issuers keep the registry's audience.
func TestIssuerAudiences(t *testing.T) {
	clock := newClock()
	k := newTestKey(t, "k1", jose.RS256)
	idp := newTestIssuer(t, "idp.example.com", k)
	res := resolver{"idp.example.com": addrs("127.0.0.1")}
	v, err := NewVerifier(testAudience, WithIssuer(IssuerConfig{Issuer: idp.issuer, DefaultRoles: []Role{RoleReader}, Audiences: []string{"api://vetted", "vetted-ui"}}),
		WithHTTPClient(guardFor(t, res, []string{"idp.example.com"}, idp.srv, "127.0.0.1/32")), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		aud  any
		want Reason
	}{
		{"api://vetted", ""},
		{[]string{"other-app", "vetted-ui"}, ""},
		{testAudience, ReasonAudience}, // the issuer's audiences replace the registry's
		{"api://vetted-staging", ReasonAudience},
		{[]string{}, ReasonAudience},
	} {
		_, err := v.Verify(context.Background(), sign(t, k, baseClaims(idp.issuer, testAudience, clock.Now()).with("aud", tc.aud)))
		if reasonOf(err) != tc.want {
			t.Errorf("aud %v: %v, want %q", tc.aud, err, tc.want)
		}
	}
	if _, err := NewVerifier(testAudience, WithIssuer(IssuerConfig{Issuer: idp.issuer, Audiences: []string{" "}})); err == nil || !strings.Contains(err.Error(), "audiences: empty value") {
		t.Fatalf("empty audience accepted: %v", err)
	}
}
