package attest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/vetted-dev/vetted/attest/oci"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/attest/trustroot"
)

// Policy is a verification policy; see package policy.
type Policy = policy.Policy

// ParsePolicy parses and validates a YAML policy. See policy.Parse.
func ParsePolicy(data []byte) (*Policy, error) { return policy.Parse(data) }

// ParsePolicyFile parses a policy file; key and trusted-root paths resolve against its directory.
func ParsePolicyFile(name string) (*Policy, error) { return policy.ParseFile(name) }

// Limits bound what is read from registries; see oci.Limits.
type Limits = oci.Limits

// ErrNotFound is what a reference that does not exist wraps (its Result fails "resolve").
var ErrNotFound = oci.ErrNotFound

// Option configures verification.
type Option func(*config) error

type config struct {
	transport  http.RoundTripper
	keychain   authn.Keychain
	insecure   []string
	limits     Limits
	logger     *slog.Logger
	now        func() time.Time
	root       root.TrustedMaterial
	sourceRepo string
}

// WithTransport sets the RoundTripper for every outbound request (registries, TUF). cmd wires
// the guarded transport from internal/netguard here.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("attest: nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithKeychain sets registry credentials (default: authn.DefaultKeychain, anonymous).
func WithKeychain(k authn.Keychain) Option {
	return func(c *config) error { c.keychain = k; return nil }
}

// WithInsecureRegistries lists registries (host[:port]) that may be reached over plain HTTP.
// Loopback registries always may.
func WithInsecureRegistries(regs ...string) Option {
	return func(c *config) error { c.insecure = append(c.insecure, regs...); return nil }
}

// WithLimits sets discovery bounds; zero fields keep their defaults.
func WithLimits(l Limits) Option {
	return func(c *config) error { c.limits = l; return nil }
}

// WithLogger sets a logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithClock sets the clock used for result times.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// WithTrustedMaterial replaces the shipped public-good trusted root for keyless authorities
// that name no trusted root of their own (a refreshed root from trustroot.FetchPublicGood, or
// a private deployment).
func WithTrustedMaterial(tm root.TrustedMaterial) Option {
	return func(c *config) error {
		if tm == nil {
			return errors.New("attest: nil trusted material")
		}
		c.root = tm
		return nil
	}
}

// WithSourceRepository sets the repository URL the server claims (server.json repository.url);
// provenance and certificates that name another repository are rejected.
func WithSourceRepository(url string) Option {
	return func(c *config) error { c.sourceRepo = url; return nil }
}

func newConfig(opts []Option) (*config, error) {
	c := &config{now: time.Now}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.root == nil {
		tr, err := trustroot.PublicGood()
		if err != nil {
			return nil, fmt.Errorf("attest: public-good trusted root: %w", err)
		}
		c.root = tr
	}
	return c, nil
}

// Verify resolves ref to a digest once, discovers its signatures and attestations, verifies
// each on its own against pol, and checks the policy's requirements.
//
// A returned error means verification could not be carried out (bad reference or policy,
// registry unreachable); a policy failure is a Result with Passed false and named Failures
// (Result.Err turns it into an error). Registry content that breaks a bound fails the
// "discovery" check; a reference that does not exist fails the "resolve" check.
func Verify(ctx context.Context, ref string, pol *Policy, opts ...Option) (*Result, error) {
	if pol == nil {
		return nil, errors.New("attest: a policy is required")
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	auths, err := compileAuthorities(pol, cfg.root)
	if err != nil {
		// Unreadable keys or roots named by the policy are a bad policy.
		return nil, fmt.Errorf("attest: %w: %w", policy.ErrInvalid, err)
	}
	client := oci.New(oci.Options{
		Transport: cfg.transport, Keychain: cfg.keychain, Insecure: cfg.insecure,
		Limits: cfg.limits, Logger: cfg.logger,
	})
	// One deadline covers resolution and discovery.
	ctx, cancel := context.WithTimeout(ctx, client.Limits().Timeout)
	defer cancel()
	img, err := client.Resolve(ctx, ref)
	if err != nil {
		var le *oci.LimitError
		if errors.As(err, &le) || errors.Is(err, oci.ErrRegistry) || errors.Is(err, oci.ErrNotFound) {
			r := &Result{Ref: ref, VerifiedAt: cfg.now().UTC(), Items: []Item{}}
			r.Failures = []Failure{{Check: CheckResolve, Reason: err.Error()}}
			return r, nil
		}
		return nil, fmt.Errorf("attest: resolve %s: %w", ref, err)
	}
	res := &Result{Ref: ref, Repository: img.Repository, Digest: img.Digest, VerifiedAt: cfg.now().UTC(), Items: []Item{}}
	disc, err := client.Discover(ctx, img)
	if err != nil {
		var le *oci.LimitError
		if errors.As(err, &le) || errors.Is(err, oci.ErrRegistry) || errors.Is(err, context.DeadlineExceeded) {
			res.Failures = []Failure{{Check: CheckDiscovery, Reason: err.Error()}}
			return res, nil
		}
		return nil, fmt.Errorf("attest: discover %s: %w", img.Digest, err)
	}
	for _, s := range disc.Skipped {
		res.Rejected = append(res.Rejected, Rejection{Candidate: s.Manifest, Check: CheckDiscovery, Reason: s.Reason})
	}
	v := &verifier{pol: pol, auths: auths, sourceRepo: cfg.sourceRepo, log: cfg.logger}
	v.verifyAll(res, disc.Candidates)
	return res, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
