package attest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/vetted-dev/vetted/attest/npm"
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

	npmKeys     []npm.Key
	npmRegistry string
	npmLimits   npm.Limits
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

// WithNPMKeys sets the npm registry keys that publish attestations must be signed with
// (default: npm.DefaultKeys, the public registry's). A key carried in a bundle is never
// trusted: its hint must name one of these.
func WithNPMKeys(keys ...npm.Key) Option {
	return func(c *config) error {
		if err := npm.ValidateKeys(keys); err != nil {
			return err
		}
		c.npmKeys = append([]npm.Key{}, keys...)
		return nil
	}
}

// WithNPMRegistry sets the default npm registry base URL (default https://registry.npmjs.org).
func WithNPMRegistry(url string) Option {
	return func(c *config) error { c.npmRegistry = url; return nil }
}

// WithNPMLimits bounds what is read from npm registries; zero fields keep their defaults.
func WithNPMLimits(l npm.Limits) Option {
	return func(c *config) error { c.npmLimits = l; return nil }
}

func newConfig(opts []Option) (*config, error) {
	c := &config{now: time.Now, npmKeys: npm.DefaultKeys(), npmRegistry: npm.DefaultRegistry}
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
// each on its own against pol, and checks the policy's requirements. It builds a Verifier
// for one use; a caller that verifies many references with one policy builds the Verifier
// once with NewVerifier.
//
// A returned error means verification could not be carried out (bad reference or policy,
// registry unreachable); a policy failure is a Result with Passed false and named Failures
// (Result.Err turns it into an error). Registry content that breaks a bound fails the
// "discovery" check; a reference that does not exist fails the "resolve" check.
func Verify(ctx context.Context, ref string, pol *Policy, opts ...Option) (*Result, error) {
	v, err := NewVerifier(pol, opts...)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, ref)
}

// Verifier verifies artifacts against one policy. NewVerifier parses the policy's keys,
// trusted roots and identity expressions once; every Verify reuses them. A Verifier is safe
// for concurrent use.
type Verifier struct {
	pol     *Policy
	cfg     *config
	auths   []*authority
	npmAuth *authority
}

// NewVerifier validates pol and compiles its authorities (keys, trusted roots, identity
// expressions) and the npm registry keys. A policy that names an unreadable key or root is
// an error wrapping policy.ErrInvalid, here rather than at the first verification.
func NewVerifier(pol *Policy, opts ...Option) (*Verifier, error) {
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
	npmAuth, err := compileNPMKeys(cfg.npmKeys, cfg.root)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	return &Verifier{pol: pol, cfg: cfg, auths: auths, npmAuth: npmAuth}, nil
}

// Policy returns the verifier's policy.
func (v *Verifier) Policy() *Policy { return v.pol }

// CallOption adjusts one verification.
type CallOption func(*call)

type call struct {
	sourceRepo  string
	require     *policy.Require
	npmRegistry string
	evidence    []SuppliedEvidence
}

// ForSourceRepository sets the repository URL the server claims (server.json
// repository.url) for this verification, overriding WithSourceRepository; provenance and
// certificates that name another repository are rejected.
func ForSourceRepository(url string) CallOption { return func(c *call) { c.sourceRepo = url } }

// RequireOnly replaces the policy's requirements for this verification (the authorities,
// log, timestamp and identity rules stay).
func RequireOnly(r policy.Require) CallOption { return func(c *call) { c.require = &r } }

// FromNPMRegistry sets the npm registry base URL for this verification (default: the
// WithNPMRegistry option, else registry.npmjs.org).
func FromNPMRegistry(url string) CallOption { return func(c *call) { c.npmRegistry = url } }

// WithEvidence adds publisher-supplied Sigstore bundles to this verification; each must bind
// to the artifact and verify, or the artifact is refused.
func WithEvidence(ev ...SuppliedEvidence) CallOption {
	return func(c *call) { c.evidence = append(c.evidence, ev...) }
}

// core returns the per-call verifier state.
func (v *Verifier) core(opts []CallOption) (*verifier, *call) {
	c := &call{sourceRepo: v.cfg.sourceRepo, npmRegistry: v.cfg.npmRegistry}
	for _, o := range opts {
		o(c)
	}
	pol := v.pol
	if c.require != nil {
		cp := *v.pol
		cp.Require = *c.require
		pol = &cp
	}
	return &verifier{pol: pol, auths: v.auths, npmAuth: v.npmAuth, sourceRepo: c.sourceRepo, log: v.cfg.logger}, c
}

// Verify resolves the OCI reference ref to a digest once, discovers its signatures and
// attestations, verifies each on its own, and checks the policy's requirements. See the
// package-level Verify for what errors and failures mean.
func (v *Verifier) Verify(ctx context.Context, ref string, opts ...CallOption) (*Result, error) {
	cfg := v.cfg
	core, _ := v.core(opts)
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
	res := &Result{Ref: ref, Repository: img.Repository, Digest: img.Digest, VerifiedAt: cfg.now().UTC(), Items: []Item{},
		Artifact: &Artifact{Type: ArtifactOCI, Name: img.Repository, Locator: img.Repository + "@" + img.Digest,
			Digests: map[string]string{"sha256": strings.TrimPrefix(img.Digest, "sha256:")}}}
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
	core.verifyAll(res, disc.Candidates)
	return res, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
