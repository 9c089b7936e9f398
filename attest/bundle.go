package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/vetted-dev/vetted/attest/intoto"
	"github.com/vetted-dev/vetted/attest/oci"
	"github.com/vetted-dev/vetted/attest/policy"
)

// MaxBundle bounds a bundle supplied with a request.
const MaxBundle = 256 << 10

// VerifyBundle verifies a Sigstore bundle that a publisher supplies for an artifact that
// lives outside an OCI registry (for example the server.json of a publish): either a message
// signature over one of digests ("sha256:<hex>", as `cosign sign-blob --bundle` makes) or a
// DSSE in-toto statement with one of them among its subjects (as `cosign attest-blob`
// makes). It must verify with an authority of pol that may sign evidence of kind
// (pol.Signers[kind]; absent: any authority), with the policy's log, timestamp, SCT,
// identity and source-repository rules. The Item returned says who signed, with
// SubjectDigest set to the digest the bundle is bound to and Blob to the bundle.
//
// A bundle that does not verify is a *FailedError whose one failure names the check
// (bundle, subject, authority, identity, signature, tlog, …); other errors mean the policy
// or options are unusable.
func VerifyBundle(bundleJSON []byte, digests []string, kind string, pol *Policy, opts ...Option) (*Item, error) {
	if pol == nil {
		return nil, errors.New("attest: a policy is required")
	}
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	if len(digests) == 0 {
		return nil, errors.New("attest: no digest to bind the bundle to")
	}
	if len(bundleJSON) > MaxBundle {
		return nil, failed(CheckBundle, "bundle larger than %d bytes", MaxBundle)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	auths, err := compileAuthorities(pol, cfg.root)
	if err != nil {
		return nil, fmt.Errorf("attest: %w: %w", policy.ErrInvalid, err)
	}
	c := &oci.Candidate{Source: oci.SourceReferrer, Manifest: "supplied", Layer: blobDigest(bundleJSON), Data: bundleJSON}
	var (
		cand   *candidate
		digest string
		rej    *rejectErr
	)
	for _, d := range digests {
		cand, rej = prepare(c, d)
		if rej == nil {
			digest = d
			break
		}
		if rej.check != CheckSubject {
			break // not about the digest: the same for every one
		}
	}
	if rej != nil {
		return nil, failed(rej.check, "%s", rej.reason)
	}
	v := &verifier{pol: pol, auths: auths, sourceRepo: cfg.sourceRepo, log: cfg.logger}
	allowed := pol.SignersFor(kind)
	var tried int
	var reasons []string
	first := ""
	for _, a := range auths {
		if a.keyless != cand.cert || (len(allowed) > 0 && !contains(allowed, a.name)) {
			continue
		}
		tried++
		item, _, rj := v.verifyWith(cand, a, digest)
		if rj == nil {
			item.Kind = intoto.Kind(kind)
			item.Blob, item.BlobDigest = bundleJSON, c.Layer
			return item, nil
		}
		if first == "" {
			first = rj.check
		}
		reasons = append(reasons, fmt.Sprintf("authority %s: %s", a.name, rj.reason))
	}
	if tried == 0 {
		material := "a key"
		if cand.cert {
			material = "a certificate (keyless)"
		}
		return nil, failed(CheckAuthority, "signed with %s, but no such authority of the policy may sign %s evidence", material, kind)
	}
	return nil, failed(first, "%s", joinReasons(reasons))
}

func failed(check, format string, a ...any) *FailedError {
	return &FailedError{Failures: []Failure{{Check: check, Reason: fmt.Sprintf(format, a...)}}}
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}

func blobDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
