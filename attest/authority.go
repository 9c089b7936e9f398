package attest

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/vetted-dev/vetted/attest/npm"
	"github.com/vetted-dev/vetted/attest/policy"
	"github.com/vetted-dev/vetted/attest/trustroot"
)

// authority is a policy authority made ready for sigstore-go.
type authority struct {
	name     string
	keyless  bool
	identity verify.CertificateIdentity
	tm       root.TrustedMaterial
	// keys only
	keyWindow   bool
	fingerprint string
	issuer      string
	// keyIDs are the npm registry key ids (npm registry authority only).
	keyIDs map[string]bool
}

func compileAuthorities(p *policy.Policy, defaultRoot root.TrustedMaterial) ([]*authority, error) {
	out := make([]*authority, 0, len(p.Authorities))
	for i, a := range p.Authorities {
		at := fmt.Sprintf("authorities[%d] (%s)", i, a.Name)
		switch {
		case a.Keyless != nil:
			kl := a.Keyless
			re := ""
			if kl.SubjectRegExp != "" {
				re = policy.AnchorRegExp(kl.SubjectRegExp)
				if _, err := regexp.Compile(re); err != nil {
					return nil, fmt.Errorf("%s: %w", at, err)
				}
			}
			san, err := verify.NewSANMatcher(kl.Subject, re)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			iss, err := verify.NewIssuerMatcher(kl.Issuer, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			id, err := verify.NewCertificateIdentity(san, iss, certificate.Extensions{
				SourceRepositoryURI:    kl.Extensions.SourceRepositoryURI,
				SourceRepositoryRef:    kl.Extensions.SourceRepositoryRef,
				SourceRepositoryDigest: kl.Extensions.SourceRepositoryDigest,
				BuildSignerURI:         kl.Extensions.BuildSignerURI,
				BuildTrigger:           kl.Extensions.BuildTrigger,
				RunnerEnvironment:      kl.Extensions.RunnerEnvironment,
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			tm := defaultRoot
			if kl.TrustedRoot != nil {
				tr, err := trustroot.FromFile(p.Resolve(kl.TrustedRoot.Path))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", at, err)
				}
				tm = tr
			}
			if tm == nil {
				return nil, fmt.Errorf("%s: no trusted root", at)
			}
			out = append(out, &authority{name: a.Name, keyless: true, identity: id, tm: tm, issuer: kl.Issuer})
		case a.Key != nil:
			k := a.Key
			pemBytes := []byte(k.PEM)
			if k.Path != "" {
				b, err := os.ReadFile(p.Resolve(k.Path))
				if err != nil {
					return nil, fmt.Errorf("%s: key: %w", at, err)
				}
				pemBytes = b
			}
			pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
			if err != nil {
				return nil, fmt.Errorf("%s: key: %w", at, err)
			}
			v, err := signature.LoadDefaultVerifier(pub)
			if err != nil {
				return nil, fmt.Errorf("%s: key: %w", at, err)
			}
			var from, until time.Time
			if k.ValidFrom != nil {
				from = *k.ValidFrom
			}
			if k.ValidUntil != nil {
				until = *k.ValidUntil
			}
			km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
				return root.NewExpiringKey(v, from, until), nil
			})
			var tm root.TrustedMaterial = km
			if defaultRoot != nil {
				// Log and timestamp authorities still come from the trusted root.
				tm = root.TrustedMaterialCollection{km, logsOnly{defaultRoot}}
			}
			out = append(out, &authority{
				name: a.Name, tm: tm, keyWindow: k.ValidFrom != nil || k.ValidUntil != nil,
				fingerprint: fingerprint(pub),
			})
		}
	}
	return out, nil
}

// logsOnly exposes a trusted root's logs and timestamp authorities but no certificate
// authorities, so that a key authority never accepts a certificate.
type logsOnly struct{ tm root.TrustedMaterial }

func (l logsOnly) TimestampingAuthorities() []root.TimestampingAuthority {
	return l.tm.TimestampingAuthorities()
}
func (l logsOnly) FulcioCertificateAuthorities() []root.CertificateAuthority { return nil }
func (l logsOnly) RekorLogs() map[string]*root.TransparencyLog               { return l.tm.RekorLogs() }
func (l logsOnly) CTLogs() map[string]*root.TransparencyLog                  { return nil }
func (l logsOnly) PublicKeyVerifier(string) (root.TimeConstrainedVerifier, error) {
	return nil, fmt.Errorf("no public keys in a trusted root")
}

func fingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// verifierOptions derives sigstore-go's verifier configuration from the policy and the shape
// of the entity: log entries present are always verified; keyless needs an observer
// timestamp; a key with a validity window needs one too, otherwise the current time is used.
func verifierOptions(p *policy.Policy, a *authority, hasTlog bool) []verify.VerifierOption {
	var vo []verify.VerifierOption
	if t := p.TlogThreshold(); t > 0 {
		vo = append(vo, verify.WithTransparencyLog(t))
	} else if hasTlog {
		vo = append(vo, verify.WithTransparencyLog(1))
	}
	if n := p.Timestamps.Threshold; n > 0 {
		vo = append(vo, verify.WithSignedTimestamps(n))
	}
	switch {
	case a.keyless:
		vo = append(vo, verify.WithObserverTimestamps(1))
		if n := p.SCTThreshold(); n > 0 {
			vo = append(vo, verify.WithSignedCertificateTimestamps(n))
		}
	case a.keyWindow:
		vo = append(vo, verify.WithObserverTimestamps(1))
	default:
		vo = append(vo, verify.WithCurrentTime())
	}
	return vo
}

// npmRegistryAuthority names the npm registry's keys in results.
const npmRegistryAuthority = "npm-registry"

// compileNPMKeys makes the configured npm registry keys an authority for publish
// attestations: a bundle's key hint selects the key; each key keeps its validity window, which
// is judged at the verified transparency-log time; logs and timestamp authorities come from
// the trusted root. An empty list yields an authority with no keys: every publish
// attestation is then refused.
func compileNPMKeys(keys []npm.Key, defaultRoot root.TrustedMaterial) (*authority, error) {
	byID := map[string]root.TimeConstrainedVerifier{}
	for _, k := range keys {
		pub, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		v, err := signature.LoadDefaultVerifier(pub)
		if err != nil {
			return nil, fmt.Errorf("npm key %s: %w", k.KeyID, err)
		}
		var from, until time.Time
		if k.ValidFrom != nil {
			from = *k.ValidFrom
		}
		if k.Expires != nil {
			until = *k.Expires
		}
		byID[k.KeyID] = root.NewExpiringKey(v, from, until)
	}
	km := root.NewTrustedPublicKeyMaterial(func(hint string) (root.TimeConstrainedVerifier, error) {
		if v, ok := byID[hint]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("npm key %q is not configured", hint)
	})
	var tm root.TrustedMaterial = km
	if defaultRoot != nil {
		tm = root.TrustedMaterialCollection{km, logsOnly{defaultRoot}}
	}
	ids := make(map[string]bool, len(byID))
	for id := range byID {
		ids[id] = true
	}
	return &authority{name: npmRegistryAuthority, tm: tm, keyWindow: true, keyIDs: ids}, nil
}
