package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/attest/pypi"
)

// ArtifactPyPI is the artifact type of a PyPI distribution (one wheel or sdist file).
const ArtifactPyPI = "pypi"

// Check names of PyPI distributions.
const (
	// CheckFilename: the distribution's file name does not carry the claimed project and
	// version (names compared after PEP 503 normalization).
	CheckFilename = "filename"
	// CheckPublisher: the Trusted Publisher PyPI recorded in the provenance object is not
	// the identity that signed its attestations.
	CheckPublisher = "publisher"
)

// ErrPyPISpec is wrapped by errors about a PyPI project name, version or file name (a
// usage error, not a refusal).
var ErrPyPISpec = pypi.ErrSpec

// PyPIDistribution is one file of a PyPI release with its PEP 740 evidence, as fetched from
// an index or given as local files.
type PyPIDistribution struct {
	// Project and Version are the claimed release.
	Project string
	Version string
	// Filename is the distribution's file name; attestations must name it exactly.
	Filename string
	Data     []byte
	// Provenance is the Integrity API's provenance object; nil when there is none.
	Provenance []byte
	// Attestations are single PEP 740 attestations (each file its own document).
	Attestations [][]byte
	// Supplied are publisher-supplied Sigstore bundles (an SBOM or tool-manifest
	// attestation, a signature) over this file's sha256, verified like npm's.
	Supplied []SuppliedEvidence
}

// VerifyPyPIDistribution verifies one PyPI distribution from its bytes, without I/O: its
// file name must carry the claimed project (PEP 503 normalized) and version; every
// attestation (of the provenance object and the single ones) is converted to a Sigstore
// bundle and verified keyless against the policy's authorities, bound to the file's name
// and sha256. A PyPI publish attestation counts as a signature (require.signature: the
// Trusted Publisher's identity signed this file); SLSA provenance counts as provenance
// (require.provenance) and, as for npm, as a signature when its authority may sign
// signatures. Any other predicate type, any attestation that does not verify, and any
// Trusted Publisher of the provenance object that is not the signing identity refuse the
// distribution, whatever the policy requires.
func (v *Verifier) VerifyPyPIDistribution(d *PyPIDistribution, opts ...CallOption) (*Result, error) {
	if err := pypi.ValidateName(d.Project); err != nil {
		return nil, err
	}
	if err := pypi.ValidateVersion(d.Version); err != nil {
		return nil, err
	}
	core, c := v.core(opts)
	if len(c.evidence) > 0 {
		cp := *d
		cp.Supplied = append(append([]SuppliedEvidence{}, d.Supplied...), c.evidence...)
		d = &cp
	}
	return core.verifyPyPI(d, v.cfg.now().UTC()), nil
}

func pypiRef(name, version string) string { return "pypi:" + name + "@" + version }

func (v *verifier) verifyPyPI(d *PyPIDistribution, now time.Time) *Result {
	res := &Result{Ref: pypiRef(d.Project, d.Version), VerifiedAt: now, Items: []Item{}}
	name, version, err := pypi.FileProject(d.Filename)
	switch {
	case err != nil:
		res.Failures = []Failure{{Check: CheckFilename, Reason: err.Error()}}
		return res
	case !pypi.SameProject(name, d.Project):
		res.Failures = []Failure{{Check: CheckFilename, Reason: fmt.Sprintf("file %s is of project %q, not %q (PEP 503 normalized: %s, %s)",
			d.Filename, name, d.Project, pypi.Normalize(name), pypi.Normalize(d.Project))}}
		return res
	case version != d.Version:
		res.Failures = []Failure{{Check: CheckFilename, Reason: fmt.Sprintf("file %s is of version %s, not %s", d.Filename, version, d.Version)}}
		return res
	}
	sum := sha256.Sum256(d.Data)
	hexSum := hex.EncodeToString(sum[:])
	res.Digest = "sha256:" + hexSum
	res.Artifact = &Artifact{Type: ArtifactPyPI, Name: d.Project, Version: d.Version, Locator: d.Filename,
		Digests: map[string]string{"sha256": hexSum}}
	filename := d.Filename
	b := &binding{
		digests: map[string][]byte{"sha256": sum[:]}, wantName: filename,
		what: fmt.Sprintf("the distribution %s (sha256:%s)", filename, hexSum),
		name: func(s string) bool { return s == filename },
	}
	if d.Provenance != nil {
		prov, err := pypi.ParseProvenance(d.Provenance)
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Candidate: "provenance object", Check: CheckBundle, Reason: err.Error()})
		} else {
			for i, pb := range prov.AttestationBundles {
				for j := range pb.Attestations {
					name := fmt.Sprintf("provenance attestation_bundles[%d].attestations[%d]", i, j)
					pub := pb.Publisher
					v.verifyPyPIAttestation(res, name, &pb.Attestations[j], b, &pub)
				}
			}
		}
	}
	for i, data := range d.Attestations {
		name := fmt.Sprintf("attestation[%d]", i)
		a, err := pypi.ParseAttestation(data)
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Candidate: name, Check: CheckBundle, Reason: err.Error()})
			continue
		}
		v.verifyPyPIAttestation(res, name, a, b, nil)
	}
	supplied := &binding{digests: map[string][]byte{"sha256": sum[:]}, what: b.what}
	for i, e := range d.Supplied {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("evidence[%d]", i)
		}
		name = "supplied " + name
		var (
			item *Item
			ev   *verifiedEvidence
		)
		cand, rej := prepareBundle(name, e.Bundle, supplied)
		if rej == nil {
			item, ev, rej = v.verifyOne(cand)
		}
		v.keep(res, name, e.Bundle, item, ev, rej)
	}
	for _, rj := range res.Rejected {
		res.Failures = append(res.Failures, Failure{Check: rj.Check, Reason: rj.Candidate + ": " + rj.Reason})
	}
	v.requirements(res)
	res.Passed = len(res.Failures) == 0
	return res
}

func (v *verifier) verifyPyPIAttestation(res *Result, name string, a *pypi.Attestation, b *binding, pub *pypi.Publisher) {
	bundleJSON, err := a.ToBundle()
	if err != nil {
		res.Rejected = append(res.Rejected, Rejection{Candidate: name, Check: CheckBundle, Reason: err.Error()})
		return
	}
	item, ev, rej := v.verifyPyPIBundle(name, bundleJSON, b)
	if rej == nil && pub != nil {
		rej = checkPublisher(pub, item)
	}
	if item != nil && rej == nil {
		name += " (" + item.PredicateType + ")"
		item.Candidate = name
	}
	v.keep(res, name, bundleJSON, item, ev, rej)
}

func (v *verifier) verifyPyPIBundle(name string, bundleJSON []byte, b *binding) (*Item, *verifiedEvidence, *rejectErr) {
	cand, rej := prepareBundle(name, bundleJSON, b)
	if rej != nil {
		return nil, nil, rej
	}
	if cand.statement == nil {
		return nil, nil, reject(CheckStatement, "a PEP 740 attestation must be a DSSE in-toto statement")
	}
	if !cand.cert {
		return nil, nil, reject(CheckAuthority, "a PEP 740 attestation must be signed keyless (a Fulcio certificate)")
	}
	switch {
	case cand.statement.PredicateType == pypi.PredicatePublish:
		// The Trusted Publisher's identity signed this file at upload: a signature.
		cand.kind = KindSignature
	case cand.kind == KindProvenance:
	default:
		return nil, nil, reject(CheckPredicate, "predicate type %q is neither PyPI's publish attestation nor SLSA provenance", cand.statement.PredicateType)
	}
	return v.verifyOne(cand)
}

// checkPublisher requires the verified certificate to be the Trusted Publisher's: its
// source repository, and its workflow (GitHub) or CI file (GitLab).
func checkPublisher(p *pypi.Publisher, item *Item) *rejectErr {
	c := item.Certificate
	if c == nil {
		return reject(CheckPublisher, "no certificate facts to compare with the Trusted Publisher")
	}
	var host, san string
	switch p.Kind {
	case "GitHub":
		host = "https://github.com/"
		san = host + p.Repository + "/.github/workflows/" + p.Workflow + "@"
		if p.Workflow == "" {
			return reject(CheckPublisher, "GitHub Trusted Publisher names no workflow")
		}
	case "GitLab":
		host = "https://gitlab.com/"
		san = host + p.Repository + "//" + p.WorkflowFilepath + "@"
		if p.WorkflowFilepath == "" {
			return reject(CheckPublisher, "GitLab Trusted Publisher names no workflow_filepath")
		}
	default:
		return reject(CheckPublisher, "Trusted Publisher kind %q is not GitHub or GitLab", p.Kind)
	}
	if !strings.EqualFold(c.SourceRepositoryURI, host+p.Repository) {
		return reject(CheckPublisher, "Trusted Publisher repository %s%s, but the certificate's source repository is %q", host, p.Repository, c.SourceRepositoryURI)
	}
	if !strings.HasPrefix(strings.ToLower(item.SignerIdentity), strings.ToLower(san)) {
		return reject(CheckPublisher, "Trusted Publisher workflow %s…, but the certificate identity is %q", san, item.SignerIdentity)
	}
	return nil
}
