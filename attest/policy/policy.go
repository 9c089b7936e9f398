package policy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"time"
)

// ErrInvalid is wrapped by every error about a policy document.
var ErrInvalid = errors.New("invalid policy")

// MaxSize bounds a policy document.
const MaxSize = 1 << 20

// Policy is one verification policy. Build it with Parse or ParseFile; the zero value denies
// everything.
type Policy struct {
	// Authorities are the signers Vetted trusts. At least one is required.
	Authorities []Authority `json:"authorities"`
	// Require lists the evidence that must be present and verified.
	Require Require `json:"require"`
	// Signers optionally restricts, per evidence kind (signature, sbom, provenance, tools),
	// which authorities (by name) may have signed it. Absent: any authority.
	Signers map[string][]string `json:"signers,omitempty"`
	// Tlog sets transparency-log requirements.
	Tlog Tlog `json:"tlog"`
	// Timestamps sets RFC 3161 signed-timestamp requirements.
	Timestamps Timestamps `json:"timestamps"`
	// SCT sets certificate-transparency requirements for keyless signatures.
	SCT SCT `json:"sct"`
	// Builders are the allowed SLSA builder ids (exact). Absent: any builder.
	Builders []string `json:"builders,omitempty"`
	// SourceRepository, when set, must equal the provenance's source repository.
	SourceRepository string `json:"sourceRepository,omitempty"`
	// Refs are allowed source refs as path.Match patterns ("refs/heads/main",
	// "refs/tags/v*"). Absent: any ref.
	Refs []string `json:"refs,omitempty"`

	baseDir string
}

// Authority is a named signer: exactly one of Key or Keyless.
type Authority struct {
	Name    string   `json:"name"`
	Key     *Key     `json:"key,omitempty"`
	Keyless *Keyless `json:"keyless,omitempty"`
}

// Key is a PEM public key (ECDSA, Ed25519 or RSA), inline or from a file relative to the
// policy file. A validity window makes a trusted timestamp mandatory.
type Key struct {
	Path       string     `json:"path,omitempty"`
	PEM        string     `json:"pem,omitempty"`
	ValidFrom  *time.Time `json:"validFrom,omitempty"`
	ValidUntil *time.Time `json:"validUntil,omitempty"`
}

// Keyless is a Fulcio certificate identity: the exact OIDC issuer, the exact SAN or a regular
// expression that Vetted anchors itself (^(?:…)$), and optional exact extension pins.
type Keyless struct {
	Issuer        string     `json:"issuer"`
	Subject       string     `json:"subject,omitempty"`
	SubjectRegExp string     `json:"subjectRegExp,omitempty"`
	Extensions    Extensions `json:"extensions,omitempty"`
	// TrustedRoot is a private trusted_root.json; absent: the Sigstore public-good root.
	TrustedRoot *File `json:"trustedRoot,omitempty"`
}

// Extensions are exact pins on Fulcio certificate extensions.
type Extensions struct {
	SourceRepositoryURI    string `json:"sourceRepositoryURI,omitempty"`
	SourceRepositoryRef    string `json:"sourceRepositoryRef,omitempty"`
	SourceRepositoryDigest string `json:"sourceRepositoryDigest,omitempty"`
	BuildSignerURI         string `json:"buildSignerURI,omitempty"`
	BuildTrigger           string `json:"buildTrigger,omitempty"`
	// RunnerEnvironment may only be "github-hosted": self-hosted runners are not pinnable.
	RunnerEnvironment string `json:"runnerEnvironment,omitempty"`
}

// File names a file relative to the policy file.
type File struct {
	Path string `json:"path"`
}

// Require lists required evidence. Each needs at least one verified item of its own kind.
type Require struct {
	Signature  bool `json:"signature"`
	SBOM       bool `json:"sbom"`
	Provenance bool `json:"provenance"`
	Tools      bool `json:"tools"`
	// ServerJSON requires a publisher's Sigstore bundle over the submitted server.json (its
	// RFC 8785 canonical form), signed by an authority of this policy (restricted by
	// signers.serverJSON when set), so that the launch configuration is bound to the
	// publisher's CI identity and not only to whoever holds a publisher token. It applies to
	// publishing, not to verifying an image.
	ServerJSON bool `json:"serverJSON,omitempty"`
}

// Tlog: Required demands at least Threshold (default 1) verified entries from distinct logs
// per item.
type Tlog struct {
	Required  bool `json:"required"`
	Threshold int  `json:"threshold,omitempty"`
}

// Timestamps: Threshold RFC 3161 timestamps from trusted authorities per item (default 0).
type Timestamps struct {
	Threshold int `json:"threshold,omitempty"`
}

// SCT: Threshold verified SCTs per keyless certificate (default 1). UnsafeSkip turns the
// check off, for private Fulcio deployments without CT.
type SCT struct {
	Threshold  int  `json:"threshold,omitempty"`
	UnsafeSkip bool `json:"unsafeSkip,omitempty"`
}

// Evidence kinds usable in Signers.
var kinds = []string{"signature", "sbom", "provenance", "tools", KindServerJSON}

// KindServerJSON is the evidence kind of a publisher's signature over server.json.
const KindServerJSON = "serverJSON"

// Parse parses and validates a YAML (or JSON) policy. Relative key and trusted-root paths are
// resolved against the current directory; use ParseFile to resolve them against the file.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	var p Policy
	if err := decodeStrict(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ParseFile reads and parses the policy at name; relative paths inside resolve against its
// directory.
func ParseFile(name string) (*Policy, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if st.Size() > MaxSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalid, name, MaxSize)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.baseDir = filepath.Dir(name)
	return p, nil
}

// Resolve returns a policy-relative path as a usable file name.
func (p *Policy) Resolve(name string) string {
	if filepath.IsAbs(name) || p.baseDir == "" {
		return name
	}
	return filepath.Join(p.baseDir, name)
}

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Validate checks the policy's internal consistency. Parse calls it.
func (p *Policy) Validate() error {
	if len(p.Authorities) == 0 {
		return invalidf("authorities: at least one authority is required")
	}
	names := map[string]bool{}
	for i, a := range p.Authorities {
		at := fmt.Sprintf("authorities[%d]", i)
		if a.Name == "" {
			return invalidf("%s.name: required", at)
		}
		if names[a.Name] {
			return invalidf("%s.name: duplicate authority %q", at, a.Name)
		}
		names[a.Name] = true
		if (a.Key == nil) == (a.Keyless == nil) {
			return invalidf("%s: exactly one of key or keyless is required", at)
		}
		if k := a.Key; k != nil {
			if (k.Path == "") == (k.PEM == "") {
				return invalidf("%s.key: exactly one of path or pem is required", at)
			}
			if k.ValidFrom != nil && k.ValidUntil != nil && !k.ValidUntil.After(*k.ValidFrom) {
				return invalidf("%s.key: validUntil must be after validFrom", at)
			}
		}
		if kl := a.Keyless; kl != nil {
			if kl.Issuer == "" {
				return invalidf("%s.keyless.issuer: required (exact match)", at)
			}
			if (kl.Subject == "") == (kl.SubjectRegExp == "") {
				return invalidf("%s.keyless: exactly one of subject or subjectRegExp is required", at)
			}
			if kl.SubjectRegExp != "" {
				if _, err := regexp.Compile(AnchorRegExp(kl.SubjectRegExp)); err != nil {
					return invalidf("%s.keyless.subjectRegExp: %v", at, err)
				}
			}
			if env := kl.Extensions.RunnerEnvironment; env != "" && env != "github-hosted" {
				return invalidf("%s.keyless.extensions.runnerEnvironment: only \"github-hosted\" may be pinned, got %q", at, env)
			}
			if kl.TrustedRoot != nil && kl.TrustedRoot.Path == "" {
				return invalidf("%s.keyless.trustedRoot.path: required", at)
			}
		}
	}
	for kind, signers := range p.Signers {
		if !contains(kinds, kind) {
			return invalidf("signers.%s: unknown evidence kind (want one of %v)", kind, kinds)
		}
		if len(signers) == 0 {
			return invalidf("signers.%s: empty list denies everything; omit the key to allow any authority", kind)
		}
		for j, n := range signers {
			if !names[n] {
				return invalidf("signers.%s[%d]: no authority named %q", kind, j, n)
			}
		}
	}
	if p.Tlog.Threshold < 0 || p.Timestamps.Threshold < 0 || p.SCT.Threshold < 0 {
		return invalidf("thresholds must not be negative")
	}
	if p.Tlog.Threshold > 0 && !p.Tlog.Required {
		return invalidf("tlog.threshold: set tlog.required: true to require log entries")
	}
	if p.SCT.UnsafeSkip && p.SCT.Threshold > 0 {
		return invalidf("sct: threshold and unsafeSkip contradict each other")
	}
	for i, r := range p.Refs {
		if _, err := path.Match(r, ""); err != nil {
			return invalidf("refs[%d]: bad pattern %q: %v", i, r, err)
		}
	}
	for i, b := range p.Builders {
		if b == "" {
			return invalidf("builders[%d]: empty builder id", i)
		}
	}
	return nil
}

// AnchorRegExp anchors a policy regular expression so that it must match the whole value.
func AnchorRegExp(re string) string { return "^(?:" + re + ")$" }

// TlogThreshold is the number of distinct verified logs each item needs (0: not required).
func (p *Policy) TlogThreshold() int {
	if !p.Tlog.Required {
		return 0
	}
	return max(p.Tlog.Threshold, 1)
}

// SCTThreshold is the number of verified SCTs a keyless certificate needs (0 only if unsafe).
func (p *Policy) SCTThreshold() int {
	if p.SCT.UnsafeSkip {
		return 0
	}
	return max(p.SCT.Threshold, 1)
}

// SignersFor lists the authority names allowed to sign evidence of kind, or nil for any.
func (p *Policy) SignersFor(kind string) []string { return p.Signers[kind] }

// RefAllowed reports whether ref matches one of the allowed patterns (or none are set).
func (p *Policy) RefAllowed(ref string) bool {
	if len(p.Refs) == 0 {
		return true
	}
	for _, r := range p.Refs {
		if ok, _ := path.Match(r, ref); ok {
			return true
		}
	}
	return false
}

// BuilderAllowed reports whether id is an allowed builder (or none are set).
func (p *Policy) BuilderAllowed(id string) bool {
	return len(p.Builders) == 0 || contains(p.Builders, id)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
