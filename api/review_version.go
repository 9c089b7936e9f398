package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/vetted-dev/vetted/attest/toolmanifest"
	"github.com/vetted-dev/vetted/registry"
	"github.com/vetted-dev/vetted/registry/launch"
)

// ReviewVersion is everything a reviewer decides on, for a version in any status.
type ReviewVersion struct {
	Server        string           `json:"server"`
	Version       string           `json:"version"`
	Status        string           `json:"status"`
	PublishedAt   time.Time        `json:"publishedAt"`
	UpdatedAt     time.Time        `json:"updatedAt"`
	ContentDigest string           `json:"contentDigest" doc:"sha256 of the server.json as submitted"`
	Publisher     string           `json:"publisher,omitempty"`
	Decision      string           `json:"decision,omitempty" doc:"The publish pipeline's decision"`
	Checks        []registry.Check `json:"checks" doc:"Every check of the publish decision"`
	Why           []ReviewCause    `json:"why" doc:"The checks that did not pass"`
	// Verification is the served _meta (pinned digests, signers, provenance, scan summary).
	Verification json.RawMessage `json:"verification,omitempty"`
	ScanSummary  json.RawMessage `json:"scanSummary,omitempty"`
	// ToolManifestDigest and ToolReport are the tool manifest's digest and its lint findings.
	ToolManifestDigest string          `json:"toolManifestDigest,omitempty"`
	ToolReport         json.RawMessage `json:"toolReport,omitempty"`
	// PreviousVersion is the version the tool definitions and the launch configuration are
	// compared with; ToolDiff the tool comparison (absent for a first version or without
	// manifests).
	PreviousVersion string                   `json:"previousVersion,omitempty"`
	ToolDiff        *toolmanifest.DiffReport `json:"toolDiff,omitempty"`
	// LaunchFindings are the launch-configuration lint findings of this version's
	// server.json (rule, severity, pointer); LaunchDiff its launch sections that differ from
	// the previous version's (runtime and package arguments, environment, transport, remotes).
	LaunchFindings []launch.Finding `json:"launchFindings" doc:"Launch-configuration lint findings (check launch), most severe first"`
	LaunchDiff     []launch.Change  `json:"launchDiff,omitempty" doc:"Launch sections changed since previousVersion, each with both sides as canonical JSON"`
	// Exceptions are the findings reviewers accepted for this version.
	Exceptions []ExceptionView `json:"exceptions" doc:"Findings reviewers accepted for this version (with reason and expiry), oldest first, ended ones included"`
}

func registerReviewVersion(api huma.API, s *Server) {
	type input struct {
		VersionParams
	}
	huma.Register(api, s.reviewOp(api, "get-review-version", http.MethodGet, ReviewPrefix+"/servers/{serverName}/versions/{version}",
		"A version as reviewers see it", "Any status: the decision's checks and why it waits, the verification summary, lint findings, the tool definitions' diff and the launch configuration's diff with the previous version.",
		http.StatusNotFound),
		func(ctx context.Context, in *input) (*struct{ Body ReviewVersion }, error) {
			k, err := in.key()
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			desk := s.review.Desk
			v, rec, err := desk.Record(ctx, k)
			if err != nil {
				return nil, s.reviewProblem(notFound(err, "version %q of server %q", k.Version, k.Name))
			}
			out := ReviewVersion{Server: v.Name, Version: v.Version, Status: string(v.Status), PublishedAt: v.PublishedAt, UpdatedAt: v.UpdatedAt,
				ContentDigest: v.ContentDigest, Checks: []registry.Check{}, Why: []ReviewCause{}, Verification: vettedMetaWithLinks(v.Name, v.Version, v.Vetted),
				LaunchFindings: []launch.Finding{}}
			es, err := desk.Exceptions(ctx, k)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			out.Exceptions = exceptionViews(es, time.Now())
			if cfg, err := launch.Parse(v.ServerJSON); err == nil {
				out.LaunchFindings = launch.Lint(cfg)
			}
			if rec == nil {
				return &struct{ Body ReviewVersion }{Body: out}, nil
			}
			out.Publisher, out.Decision, out.Checks = rec.Actor, string(rec.Decision), rec.Checks
			var why []registry.Check
			for _, c := range rec.Checks {
				if c.Outcome != registry.Pass {
					why = append(why, c)
				}
			}
			out.Why = Causes(why)
			out.ScanSummary, out.ToolManifestDigest, out.ToolReport = rawOrNil(rec.ScanSummary), rec.ToolManifestDigest, rawOrNil(rec.ToolReport)
			prev, prec, err := desk.Previous(ctx, v)
			if err != nil {
				return nil, s.reviewProblem(err)
			}
			if prev != nil {
				out.PreviousVersion = prev.Version
				old, err1 := launch.Sections(prev.ServerJSON)
				cur, err2 := launch.Sections(v.ServerJSON)
				if err1 == nil && err2 == nil {
					out.LaunchDiff = launch.Diff(old, cur)
				}
			}
			if prev != nil && prec != nil && len(prec.ToolManifest) > 0 && len(rec.ToolManifest) > 0 {
				oldM, err1 := toolmanifest.Parse(prec.ToolManifest)
				newM, err2 := toolmanifest.Parse(rec.ToolManifest)
				if err1 == nil && err2 == nil {
					out.PreviousVersion, out.ToolDiff = prev.Version, toolmanifest.Diff(oldM, newM)
				}
			}
			return &struct{ Body ReviewVersion }{Body: out}, nil
		})
}

func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
