package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/attest/intoto"
)

// MaxBundle bounds a bundle supplied with a request.
const MaxBundle = 256 << 10

// VerifyBundle verifies a Sigstore bundle that a publisher supplies for a document that
// lives outside any registry (the server.json of a publish): either a message signature over
// one of digests ("sha256:<hex>", as `cosign sign-blob --bundle` makes) or a DSSE in-toto
// statement with one of them among its subjects (as `cosign attest-blob` makes). It must
// verify with an authority of the policy that may sign evidence of kind
// (policy signers[kind]; absent: any authority), under the policy's log, timestamp, SCT,
// identity and source-repository rules. The Item says who signed; its Kind is kind, its
// SubjectDigest the digest the bundle is bound to, and Blob the bundle.
//
// A bundle that does not verify is a *FailedError whose one failure names the check
// (bundle, subject, authority, identity, signature, tlog, …).
func (v *Verifier) VerifyBundle(bundleJSON []byte, digests []string, kind string, opts ...CallOption) (*Item, error) {
	if len(digests) == 0 {
		return nil, errors.New("attest: no digest to bind the bundle to")
	}
	if len(bundleJSON) > MaxBundle {
		return nil, failed(CheckBundle, "bundle larger than %d bytes", MaxBundle)
	}
	name := "supplied bundle " + blobDigest(bundleJSON)
	var (
		cand *candidate
		rej  *rejectErr
	)
	for _, d := range digests {
		raw, err := hex.DecodeString(strings.TrimPrefix(d, "sha256:"))
		if err != nil || len(raw) != sha256.Size || !strings.HasPrefix(d, "sha256:") {
			return nil, fmt.Errorf("attest: digest %q is not sha256", d)
		}
		cand, rej = prepareBundle(name, bundleJSON, &binding{digests: map[string][]byte{"sha256": raw}, what: "the document " + d})
		if rej == nil || rej.check != CheckSubject {
			break // bound, or wrong for a reason no other digest changes
		}
	}
	if rej != nil {
		return nil, failed(rej.check, "%s", rej.reason)
	}
	cand.kind = intoto.Kind(kind) // its role here, whatever its predicate: judged by signers[kind]
	core, _ := v.core(opts)
	item, _, rej := core.verifyOne(cand)
	if rej != nil {
		return nil, failed(rej.check, "%s", rej.reason)
	}
	item.Blob, item.BlobDigest = bundleJSON, blobDigest(bundleJSON)
	return item, nil
}

func failed(check, format string, a ...any) *FailedError {
	return &FailedError{Failures: []Failure{{Check: check, Reason: fmt.Sprintf(format, a...)}}}
}

func blobDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
