package registry

import "fmt"

// Decision is what the pipeline decides for a publish.
type Decision string

const (
	DecisionPublished     Decision = "published"
	DecisionPendingReview Decision = "pending_review"
	DecisionRejected      Decision = "rejected"
)

// Outcome of one check.
type Outcome string

const (
	// Pass: the check holds.
	Pass Outcome = "pass"
	// Review: the check needs a person (a changed tool, a look-alike namespace, a
	// vulnerability exception); the version waits in pending_review.
	Review Outcome = "review"
	// Fail: a required check does not hold; the publish is rejected.
	Fail Outcome = "fail"
)

// Check names. Package-scoped checks carry the package's index and identifier too.
const (
	CheckAuthorize = "authorize"
	CheckNamespace = "namespace.lookalike"
	CheckPackages  = "packages"
	// CheckPackagesSkipped says a static dry run (PublishRequest.Static) did not look at
	// the packages or tools.
	CheckPackagesSkipped = "packages.skipped"
	CheckResolve         = "resolve"
	CheckVerify          = "verify"
	CheckSignature       = "signature"
	CheckSBOM            = "sbom"
	CheckProvenance      = "provenance"
	CheckToolsAttested   = "tools.attestation"
	CheckScan            = "scan"
	CheckToolsManifest   = "tools.manifest"
	CheckToolsLint       = "tools.lint"
	CheckToolsDiff       = "tools.diff"
	// CheckLaunch is one launch-configuration lint finding (or the pass when there are none);
	// CheckLaunchDiff compares the launch configuration with the latest published version's.
	CheckLaunch     = "launch"
	CheckLaunchDiff = "launch.diff"
	// CheckServerJSONSignature is the publisher's signature over the submitted server.json.
	CheckServerJSONSignature = "serverjson.signature"
)

// Check is one line of a decision: what was checked, for which package, and why it passed
// or failed — worded so that a publisher can act on it.
type Check struct {
	Name    string  `json:"name"`
	Package string  `json:"package,omitempty"`
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason"`
	// Rule and Pointer name a lint finding: its stable rule id and the RFC 6901 pointer of
	// the offending value in server.json (launch findings).
	Rule    string `json:"rule,omitempty"`
	Pointer string `json:"pointer,omitempty"`
}

func (c Check) String() string {
	if c.Package != "" {
		return fmt.Sprintf("%-6s %s [%s]: %s", c.Outcome, c.Name, c.Package, c.Reason)
	}
	return fmt.Sprintf("%-6s %s: %s", c.Outcome, c.Name, c.Reason)
}

// Decide returns the decision for a list of checks: rejected when any failed (and when the
// list is empty: no evidence is no pass), pending_review when any needs review, published
// otherwise.
func Decide(checks []Check) Decision {
	if len(checks) == 0 {
		return DecisionRejected
	}
	review := false
	for _, c := range checks {
		switch c.Outcome {
		case Fail:
			return DecisionRejected
		case Review:
			review = true
		case Pass:
		default:
			return DecisionRejected
		}
	}
	if review {
		return DecisionPendingReview
	}
	return DecisionPublished
}

// CheckError is a seam's way to fail one named check (e.g. a Verifier that cannot resolve a
// reference fails "resolve"). The pipeline records it as that check's failure.
type CheckError struct {
	Check  string
	Reason string
}

func (e *CheckError) Error() string { return e.Check + ": " + e.Reason }
