package attest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/attest/intoto"
	"github.com/vetted-dev/vetted/attest/pypi"
)

// Which distributions of a PyPI release are verified (publish.pypi.distributions).
const (
	// PyPIAll verifies every file of the release: a client may install any of them.
	PyPIAll = "all"
	// PyPIAnyWheel verifies the wheels only (at least one); sdists are not served.
	PyPIAnyWheel = "any-wheel"
	// PyPISdist verifies the sdist only.
	PyPISdist = "sdist"
)

// PyPIRequest names a PyPI release to fetch and verify.
type PyPIRequest struct {
	// Index is the index root or simple API URL ("" = https://pypi.org).
	Index   string
	Project string
	Version string
	// Distributions is PyPIAll (default), PyPIAnyWheel or PyPISdist.
	Distributions string
	// Limits bound the fetch (zero fields: pypi.DefaultLimits).
	Limits pypi.Limits
}

// PyPIRelease is a verified (or refused) PyPI release: the merged result and each file.
type PyPIRelease struct {
	// Result merges the files' results: every item, rejection and failure is named by its
	// file; Digest is the first file's sha256 (a wheel when there is one).
	Result *Result
	Files  []PyPIFile
}

// PyPIFile is one distribution of a release, its bytes and its own result.
type PyPIFile struct {
	Filename string `json:"filename"`
	URL      string `json:"url,omitempty"`
	// SHA256 is the hex sha256 of Data (checked against the index's).
	SHA256 string  `json:"sha256"`
	Result *Result `json:"-"`
	Data   []byte  `json:"-"`
}

// SelectPyPIFile reports whether filename is verified under distributions (see PyPIAll).
func SelectPyPIFile(distributions, filename string) bool {
	switch distributions {
	case PyPIAnyWheel:
		return strings.HasSuffix(filename, ".whl")
	case PyPISdist:
		return !strings.HasSuffix(filename, ".whl")
	}
	return true
}

// ValidPyPIDistributions reports whether s is a known distributions setting ("" = all).
func ValidPyPIDistributions(s string) bool {
	return s == "" || s == PyPIAll || s == PyPIAnyWheel || s == PyPISdist
}

// VerifyPyPI fetches a release from its index through the configured transport — the
// PEP 691/503 project page, the files of exactly the version that the distributions
// setting selects (bounded, each checked against the index's sha256) and each file's PEP
// 740 provenance object — and verifies it as VerifyPyPIFiles does, with the call's supplied
// evidence. A release the index does not have, without files, yanked, or whose bytes do
// not match fails the "resolve" check, naming the file; a name or version that is not
// exact returns an error wrapping ErrPyPISpec.
func (v *Verifier) VerifyPyPI(ctx context.Context, req PyPIRequest, opts ...CallOption) (*PyPIRelease, error) {
	if err := pypi.ValidateName(req.Project); err != nil {
		return nil, err
	}
	if err := pypi.ValidateVersion(req.Version); err != nil {
		return nil, err
	}
	if !ValidPyPIDistributions(req.Distributions) {
		return nil, fmt.Errorf("%w: distributions %q is not all, any-wheel or sdist", ErrPyPISpec, req.Distributions)
	}
	index := req.Index
	if index == "" {
		index = pypi.DefaultIndex
	}
	client := pypi.NewClient(pypi.ClientOptions{Transport: v.cfg.transport, Insecure: v.cfg.insecure, Limits: req.Limits, Logger: v.cfg.logger})
	rel, err := client.Fetch(ctx, index, req.Project, req.Version, func(f string) bool { return SelectPyPIFile(req.Distributions, f) })
	if err != nil {
		if errors.Is(err, pypi.ErrSpec) {
			return nil, err
		}
		if errors.Is(err, pypi.ErrNotFound) || errors.Is(err, pypi.ErrIndex) || errors.Is(err, pypi.ErrLimit) ||
			errors.Is(err, pypi.ErrYanked) || errors.Is(err, pypi.ErrHash) || errors.Is(err, context.DeadlineExceeded) {
			r := &Result{Ref: pypiRef(req.Project, req.Version), Repository: index, VerifiedAt: v.cfg.now().UTC(), Items: []Item{}}
			reason := err.Error()
			if req.Distributions != "" && req.Distributions != PyPIAll && errors.Is(err, pypi.ErrNotFound) {
				reason += " (distributions: " + req.Distributions + ")"
			}
			r.Failures = []Failure{{Check: CheckResolve, Reason: reason}}
			return &PyPIRelease{Result: r}, nil
		}
		return nil, fmt.Errorf("attest: fetch %s: %w", pypiRef(req.Project, req.Version), err)
	}
	dists := make([]*PyPIDistribution, len(rel.Files))
	for i, f := range rel.Files {
		dists[i] = &PyPIDistribution{Project: req.Project, Version: req.Version, Filename: f.Filename, Data: f.Data, Provenance: f.Provenance}
	}
	out, err := v.VerifyPyPIFiles(dists, opts...)
	if err != nil {
		return nil, err
	}
	out.Result.Repository = rel.Index
	for i := range out.Files {
		out.Files[i].URL = rel.Files[i].URL
	}
	return out, nil
}

// VerifyPyPIFiles verifies the distributions of one release, without I/O. Each supplied
// evidence document of the call is given to the file it binds to: a PEP 740 attestation or
// provenance object to the file its statement names, a Sigstore bundle to the file whose
// sha256 it signs; evidence that binds to none of them refuses the release. Every file must
// meet the policy's signature and provenance requirements on its own (a client may install
// any of them); the SBOM and tool-manifest requirements are met by an attestation over any
// file of the release.
func (v *Verifier) VerifyPyPIFiles(dists []*PyPIDistribution, opts ...CallOption) (*PyPIRelease, error) {
	if len(dists) == 0 {
		return nil, fmt.Errorf("%w: no distributions", ErrPyPISpec)
	}
	project, version := dists[0].Project, dists[0].Version
	if err := pypi.ValidateName(project); err != nil {
		return nil, err
	}
	if err := pypi.ValidateVersion(version); err != nil {
		return nil, err
	}
	core, c := v.core(opts)
	now := v.cfg.now().UTC()
	merged := &Result{Ref: pypiRef(project, version), VerifiedAt: now, Items: []Item{}}

	files := make([]*PyPIDistribution, len(dists))
	for i, d := range dists {
		cp := *d
		if cp.Project != project || cp.Version != version {
			return nil, fmt.Errorf("%w: distribution %s is given for %s %s, not %s %s", ErrPyPISpec, d.Filename, d.Project, d.Version, project, version)
		}
		files[i] = &cp
	}
	for i, e := range c.evidence {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("evidence[%d]", i)
		}
		if rej := assignPyPIEvidence(files, name, e.Bundle); rej != nil {
			merged.Rejected = append(merged.Rejected, Rejection{Candidate: "supplied " + name, Check: rej.check, Reason: rej.reason})
		}
	}

	// Per file: signature and provenance; the release: SBOM and tools.
	perFile := *core
	pf := *core.pol
	pf.Require.SBOM, pf.Require.Tools = false, false
	perFile.pol = &pf
	rel := &PyPIRelease{Result: merged}
	primary := -1
	for i, d := range files {
		res := perFile.verifyPyPI(d, now)
		rel.Files = append(rel.Files, PyPIFile{Filename: d.Filename, SHA256: strings.TrimPrefix(res.Digest, "sha256:"), Result: res, Data: d.Data})
		if res.Digest != "" && (primary < 0 || (strings.HasSuffix(d.Filename, ".whl") && !strings.HasSuffix(files[primary].Filename, ".whl"))) {
			primary = i
		}
		prefix := d.Filename + ": "
		base := len(merged.Items)
		for _, it := range res.Items {
			it.Candidate = prefix + it.Candidate
			merged.Items = append(merged.Items, it)
		}
		for _, rj := range res.Rejected {
			rj.Candidate = prefix + rj.Candidate
			merged.Rejected = append(merged.Rejected, rj)
		}
		for _, f := range res.Failures {
			f.Reason = prefix + f.Reason
			merged.Failures = append(merged.Failures, f)
		}
		if merged.Provenance == nil && res.Provenance != nil {
			merged.Provenance = res.Provenance
		}
		for _, ev := range []struct{ dst, src **Evidence }{{&merged.SBOM, &res.SBOM}, {&merged.ProvenancePredicate, &res.ProvenancePredicate}, {&merged.ToolManifest, &res.ToolManifest}} {
			if *ev.dst == nil && *ev.src != nil {
				e := **ev.src
				e.Item += base
				*ev.dst = &e
			}
		}
		if t := res.ToolManifest; t != nil && merged.ToolManifest != nil && string(canonicalTools(t.Predicate)) != string(canonicalTools(merged.ToolManifest.Predicate)) {
			merged.Failures = append(merged.Failures, Failure{Check: CheckPredicate, Reason: prefix + "its tool manifest differs from the one attested for another file of the release"})
		}
	}
	for _, rj := range merged.Rejected {
		if strings.HasPrefix(rj.Candidate, "supplied ") {
			merged.Failures = append(merged.Failures, Failure{Check: rj.Check, Reason: rj.Candidate + ": " + rj.Reason})
		}
	}
	if primary >= 0 {
		p := rel.Files[primary]
		merged.Digest = "sha256:" + p.SHA256
		merged.Artifact = &Artifact{Type: ArtifactPyPI, Name: project, Version: version, Locator: p.Filename,
			Digests: map[string]string{"sha256": p.SHA256}}
	}
	// The release-level requirements, over every file's items.
	rl := *core
	rp := *core.pol
	rp.Require.Signature, rp.Require.Provenance = false, false
	rl.pol = &rp
	if rp.Require.SBOM || rp.Require.Tools {
		rl.requirements(merged)
	}
	merged.Passed = len(merged.Failures) == 0
	return rel, nil
}

// canonicalTools compacts a predicate so that formatting differences do not count.
func canonicalTools(p []byte) []byte {
	var v any
	if json.Unmarshal(p, &v) != nil {
		return p
	}
	out, _ := json.Marshal(v)
	return out
}

// assignPyPIEvidence gives one supplied document to the file it binds to.
func assignPyPIEvidence(files []*PyPIDistribution, name string, doc []byte) *rejectErr {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc, &probe); err != nil {
		return reject(CheckBundle, "not a JSON object: %v", err)
	}
	_, isProv := probe["attestation_bundles"]
	_, isAtt := probe["verification_material"]
	_, hasEnv := probe["envelope"]
	switch {
	case isProv:
		prov, err := pypi.ParseProvenance(doc)
		if err != nil {
			return reject(CheckBundle, "%v", err)
		}
		var target *PyPIDistribution
		for _, b := range prov.AttestationBundles {
			for _, a := range b.Attestations {
				d, rej := fileNamedBy(files, &a)
				if rej != nil {
					return rej
				}
				if target != nil && target != d {
					return reject(CheckSubject, "a provenance object is of one file, this one names %s and %s", target.Filename, d.Filename)
				}
				target = d
			}
		}
		if target == nil {
			return reject(CheckBundle, "the provenance object holds no attestations")
		}
		if target.Provenance != nil {
			return reject(CheckBundle, "%s already has a provenance object (from the index or another supplied document)", target.Filename)
		}
		target.Provenance = doc
		return nil
	case isAtt && hasEnv:
		a, err := pypi.ParseAttestation(doc)
		if err != nil {
			return reject(CheckBundle, "%v", err)
		}
		d, rej := fileNamedBy(files, a)
		if rej != nil {
			return rej
		}
		d.Attestations = append(d.Attestations, doc)
		return nil
	}
	var first *rejectErr
	for _, d := range files {
		sum := sha256.Sum256(d.Data)
		b := &binding{digests: map[string][]byte{"sha256": sum[:]}, what: "the distribution " + d.Filename}
		_, rej := prepareBundle(name, doc, b)
		if rej == nil {
			d.Supplied = append(d.Supplied, SuppliedEvidence{Name: name, Bundle: doc})
			return nil
		}
		if rej.check != CheckSubject {
			return rej
		}
		if first == nil {
			first = rej
		}
	}
	names := make([]string, len(files))
	for i, d := range files {
		names[i] = d.Filename
	}
	return reject(CheckSubject, "binds to none of the distributions (%s): %s", strings.Join(names, ", "), first.reason)
}

// fileNamedBy returns the file a PEP 740 attestation's statement names.
func fileNamedBy(files []*PyPIDistribution, a *pypi.Attestation) (*PyPIDistribution, *rejectErr) {
	raw, err := base64.StdEncoding.DecodeString(a.Envelope.Statement)
	if err != nil {
		return nil, reject(CheckStatement, "statement is not base64: %v", err)
	}
	st, err := intoto.ParseStatement(raw)
	if err != nil {
		return nil, reject(CheckStatement, "%v", err)
	}
	var names []string
	for _, s := range st.Subject {
		for _, d := range files {
			if s.Name == d.Filename {
				return d, nil
			}
		}
		names = append(names, s.Name)
	}
	return nil, reject(CheckSubject, "the attestation's subject %v is none of the release's files", names)
}
