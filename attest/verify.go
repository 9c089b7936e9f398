package attest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/vetted-dev/vetted/attest/intoto"
	"github.com/vetted-dev/vetted/attest/oci"
	"github.com/vetted-dev/vetted/attest/policy"
)

type verifier struct {
	pol        *policy.Policy
	auths      []*authority
	npmAuth    *authority
	sourceRepo string
	log        *slog.Logger
}

// verifyAll verifies every candidate on its own, then checks the requirements.
func (v *verifier) verifyAll(res *Result, cands []oci.Candidate) {
	for i := range cands {
		c := &cands[i]
		var (
			item *Item
			ev   *verifiedEvidence
		)
		cand, rej := prepare(c, res.Digest)
		if rej == nil {
			item, ev, rej = v.verifyOne(cand)
		}
		if rej == nil {
			item.BlobDigest, item.Blob = c.Layer, c.Data
			for _, k := range []string{annSignature, annCertificate, annChain, annBundle, annTimestamp} {
				if val, ok := c.Annotations[k]; ok && c.Source != oci.SourceReferrer {
					if item.Annotations == nil {
						item.Annotations = map[string]string{}
					}
					item.Annotations[k] = val
				}
			}
		}
		if rej != nil {
			res.Rejected = append(res.Rejected, Rejection{Candidate: candidateName(c), Check: rej.check, Reason: rej.reason})
			v.log.Debug("rejected", slog.String("candidate", candidateName(c)), slog.String("check", rej.check), slog.String("reason", rej.reason))
			continue
		}
		v.record(res, item, ev)
	}
	v.requirements(res)
	res.Passed = len(res.Failures) == 0
}

// record appends a verified item and keeps the first verified predicate of each kind.
func (v *verifier) record(res *Result, item *Item, ev *verifiedEvidence) {
	res.Items = append(res.Items, *item)
	idx := len(res.Items) - 1
	if ev == nil {
		return
	}
	ev.evidence.Item = idx
	switch item.Kind {
	case KindSBOM:
		if res.SBOM == nil {
			res.SBOM = ev.evidence
		}
	case KindProvenance:
		if res.ProvenancePredicate == nil {
			res.ProvenancePredicate = ev.evidence
			res.Provenance = ev.provenance
		}
	case KindTools:
		if res.ToolManifest == nil {
			res.ToolManifest = ev.evidence
		}
	}
}

type verifiedEvidence struct {
	evidence   *Evidence
	provenance *Provenance
}

func (v *verifier) requirements(res *Result) {
	have := map[Kind]bool{}
	vouched := 0
	for _, it := range res.Items {
		have[it.Kind] = true
		if it.Kind != KindPublish {
			vouched++
		}
		// For a package (not an image), verified provenance from an authority allowed to
		// sign signatures is a signature over the artifact: it binds the artifact's digest
		// to a policy identity.
		if res.Artifact != nil && res.Artifact.Type != ArtifactOCI && it.Kind == KindProvenance {
			if allowed := v.pol.SignersFor(string(KindSignature)); len(allowed) == 0 || contains(allowed, it.Authority) {
				have[KindSignature] = true
			}
		}
	}
	req := []struct {
		on    bool
		kind  Kind
		check string
	}{
		{v.pol.Require.Signature, KindSignature, CheckRequireSignature},
		{v.pol.Require.SBOM, KindSBOM, CheckRequireSBOM},
		{v.pol.Require.Provenance, KindProvenance, CheckRequireProvenance},
		{v.pol.Require.Tools, KindTools, CheckRequireTools},
	}
	for _, r := range req {
		if !r.on || have[r.kind] {
			continue
		}
		reason := fmt.Sprintf("no verified %s", r.kind)
		if n := len(res.Rejected); n > 0 {
			var why []string
			for i, rj := range res.Rejected {
				if i == 5 {
					why = append(why, fmt.Sprintf("and %d more", n-i))
					break
				}
				why = append(why, rj.Check+": "+rj.Reason)
			}
			reason += fmt.Sprintf(" (%d candidates rejected: %s)", n, strings.Join(why, "; "))
		} else if len(res.Items) == 0 {
			reason += " (no signatures or attestations found)"
		}
		res.Failures = append(res.Failures, Failure{Check: r.check, Reason: reason})
	}
	if !v.pol.Require.Signature && !v.pol.Require.SBOM && !v.pol.Require.Provenance && !v.pol.Require.Tools && vouched == 0 {
		// A policy that requires nothing still denies an image nothing vouches for.
		res.Failures = append(res.Failures, Failure{Check: CheckRequireSignature, Reason: "nothing verified: the policy requires no evidence, but no match is a denial"})
	}
}

// verifyOne verifies a prepared candidate with every policy authority that may sign its
// kind, until one succeeds.
func (v *verifier) verifyOne(cand *candidate) (*Item, *verifiedEvidence, *rejectErr) {
	allowed := v.pol.SignersFor(string(cand.kind))
	var tried []string
	var firstRej *rejectErr
	for _, a := range v.auths {
		if a.keyless != cand.cert {
			continue
		}
		if len(allowed) > 0 && !contains(allowed, a.name) {
			continue
		}
		tried = append(tried, a.name)
		item, ev, rej := v.verifyWith(cand, a)
		if rej == nil {
			return item, ev, nil
		}
		rej.reason = fmt.Sprintf("authority %s: %s", a.name, rej.reason)
		if firstRej == nil {
			firstRej = rej
		} else {
			firstRej.reason += "; " + rej.reason
		}
	}
	if len(tried) == 0 {
		material := "a key"
		if cand.cert {
			material = "a certificate (keyless)"
		}
		return nil, nil, reject(CheckAuthority, "signed with %s, but no such authority may sign %s evidence", material, cand.kind)
	}
	return nil, nil, firstRej
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *verifier) verifyWith(cand *candidate, a *authority) (*Item, *verifiedEvidence, *rejectErr) {
	entries := cand.entries
	sv, err := verify.NewVerifier(a.tm, verifierOptions(v.pol, a, len(entries) > 0)...)
	if err != nil {
		return nil, nil, reject(CheckSignature, "verifier: %v", err)
	}
	idOpt := verify.WithKey()
	if a.keyless {
		idOpt = verify.WithCertificateIdentity(a.identity)
	}
	vr, err := sv.Verify(cand.entity, verify.NewPolicy(cand.artifact(), idOpt))
	if err != nil {
		return nil, nil, classify(err)
	}
	item := &Item{
		Kind: cand.kind, Candidate: cand.name, Authority: a.name, SubjectDigest: cand.bound,
	}
	if cand.statement != nil {
		item.PredicateType = cand.statement.PredicateType
	}
	if a.keyless {
		if vr.Signature == nil || vr.Signature.Certificate == nil {
			return nil, nil, reject(CheckIdentity, "no certificate in the verification result")
		}
		s := vr.Signature.Certificate
		item.SignerIdentity, item.Issuer = s.SubjectAlternativeName, s.Extensions.Issuer
		item.Certificate = &CertificateFacts{
			SourceRepositoryURI: s.SourceRepositoryURI, SourceRepositoryRef: s.SourceRepositoryRef,
			SourceRepositoryDigest: s.SourceRepositoryDigest, BuildSignerURI: s.BuildSignerURI,
			BuildTrigger: s.BuildTrigger, RunnerEnvironment: s.RunnerEnvironment,
		}
		if err := v.checkSourceRepo(s.SourceRepositoryURI); err != nil {
			return nil, nil, err
		}
	} else {
		item.SignerIdentity = a.fingerprint
	}
	for _, ts := range vr.VerifiedTimestamps {
		item.Timestamps = append(item.Timestamps, Timestamp{Type: ts.Type, URI: ts.URI, Time: ts.Timestamp.UTC()})
	}
	logs := a.tm.RekorLogs()
	for _, e := range entries {
		if _, ok := logs[hex.EncodeToString([]byte(e.LogKeyID()))]; !ok {
			continue
		}
		item.LogEntries = append(item.LogEntries, LogEntry{
			LogID: hex.EncodeToString([]byte(e.LogKeyID())), LogIndex: e.LogIndex(), IntegratedTime: e.IntegratedTime().UTC(),
		})
	}
	if cand.statement == nil {
		return item, nil, nil
	}
	ev, rej := v.checkPredicate(cand.statement, item)
	if rej != nil {
		return nil, nil, rej
	}
	return item, ev, nil
}

// checkPredicate parses the verified predicate for its kind and applies the provenance policy.
func (v *verifier) checkPredicate(st *intoto.Statement, item *Item) (*verifiedEvidence, *rejectErr) {
	ev := &verifiedEvidence{evidence: &Evidence{PredicateType: st.PredicateType, Predicate: st.Predicate}}
	switch item.Kind {
	case KindSBOM:
		if err := intoto.CheckSBOM(st.PredicateType, st.Predicate); err != nil {
			return nil, reject(CheckPredicate, "%v", err)
		}
	case KindProvenance:
		p, err := intoto.ParseProvenance(st.PredicateType, st.Predicate)
		if err != nil {
			return nil, reject(CheckPredicate, "%v", err)
		}
		if c := item.Certificate; c != nil {
			fill(&p.SourceRepo, intoto.NormalizeRepo(c.SourceRepositoryURI))
			fill(&p.Ref, c.SourceRepositoryRef)
			fill(&p.Commit, c.SourceRepositoryDigest)
			fill(&p.Workflow, c.BuildSignerURI)
			fill(&p.Trigger, c.BuildTrigger)
			fill(&p.Runner, c.RunnerEnvironment)
		}
		if !v.pol.BuilderAllowed(p.BuilderID) {
			return nil, reject(CheckBuilder, "builder %q is not one of %v", p.BuilderID, v.pol.Builders)
		}
		if err := v.checkSourceRepo(p.SourceRepo); err != nil {
			return nil, err
		}
		if (v.pol.SourceRepository != "" || v.sourceRepo != "") && p.SourceRepo == "" {
			return nil, reject(CheckSourceRepository, "provenance names no source repository")
		}
		if !v.pol.RefAllowed(p.Ref) {
			return nil, reject(CheckRef, "ref %q matches none of %v", p.Ref, v.pol.Refs)
		}
		ev.provenance = p
	}
	return ev, nil
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// checkSourceRepo compares a stated repository (when non-empty) with the policy's and the
// server's.
func (v *verifier) checkSourceRepo(got string) *rejectErr {
	if got == "" {
		return nil
	}
	g := intoto.NormalizeRepo(got)
	for _, want := range []string{v.pol.SourceRepository, v.sourceRepo} {
		if want != "" && intoto.NormalizeRepo(want) != g {
			return reject(CheckSourceRepository, "source repository %q is not %q", got, want)
		}
	}
	return nil
}

// classify names the check behind a sigstore-go verification error. sigstore-go wraps each
// stage's failure with a fixed prefix; those prefixes are matched here, in one place, with a
// test per stage.
func classify(err error) *rejectErr {
	var idErr *verify.ErrNoMatchingCertificateIdentity
	if errors.As(err, &idErr) {
		return reject(CheckIdentity, "%v", err)
	}
	msg := err.Error()
	stages := []struct{ prefix, check string }{
		{"failed to verify log inclusion", CheckTlog},
		{"failed to verify timestamps", CheckTimestamp},
		{"failed to verify leaf certificate", CheckCertificate},
		{"failed to verify signed certificate timestamp", CheckSCT},
		{"SCTs required", CheckSCT},
		{"signature time outside of public key validity window", CheckKey},
		{"expected key signature, not certificate", CheckAuthority},
		{"can't verify certificate identities", CheckIdentity},
		{"failed to verify certificate identity", CheckIdentity},
		{"failed to fetch envelope statement", CheckStatement},
		{"failed to verify signature", CheckSignature},
		{"failed to get signature verifier", CheckSignature},
	}
	for _, s := range stages {
		if strings.HasPrefix(msg, s.prefix) {
			return reject(s.check, "%s", msg)
		}
	}
	return reject(CheckSignature, "%s", msg)
}
