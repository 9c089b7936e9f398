package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"

	"github.com/vetted-dev/vetted/api/auth"
	"github.com/vetted-dev/vetted/registry"
)

// PublishMetaKey is the _meta key of a publish response carrying the decision and checks.
const PublishMetaKey = "dev.vetted/publish"

// PublishConfig enables POST /v0.1/publish and the /v0.1/x/dev.vetted extension endpoints.
type PublishConfig struct {
	// Pipeline decides and records publishes. Required.
	Pipeline *registry.Pipeline
	// Evidence serves what was recorded. Required.
	Evidence registry.EvidenceStore
	// Caller returns, for an authenticated request, who the caller is (recorded in the audit
	// chain) and whether it may publish a server name. Default (nil): the authenticated
	// principal (api/auth), allowed the namespaces its publish permission covers.
	Caller func(ctx context.Context) (actor string, authz registry.Authorizer)
	// VSAPublicKey is the PEM public key of the registry's attestations (served at
	// VSAKeyPath); nil when the registry signs none.
	VSAPublicKey []byte
	// SARIF converts a stored scan report (the scan package's JSON) to SARIF 2.1.0; nil
	// makes ?format=sarif answer 406.
	SARIF func(report []byte) ([]byte, error)
	// Audit, when set, serves the audit chain to reviewers (GET /v0.1/x/dev.vetted/audit).
	Audit registry.EvidenceStore
	// Rescan, when set, lets an admin run the OSV sync and re-scan now
	// (POST /v0.1/x/dev.vetted/admin/rescan); its result is returned as JSON.
	Rescan func(ctx context.Context) (any, error)
}

func (c *PublishConfig) validate() error {
	if c.Pipeline == nil || c.Evidence == nil {
		return errors.New("api: publishing needs a pipeline and an evidence store")
	}
	if c.Caller == nil {
		c.Caller = principalCaller
	}
	return nil
}

// principalCaller is the default PublishConfig.Caller: the authenticated principal, allowed
// to publish the names its publish permission covers.
func principalCaller(ctx context.Context) (string, registry.Authorizer) {
	return auth.PrincipalFrom(ctx).ID(), registry.AuthorizerFunc(func(name string) error {
		return auth.Require(ctx, auth.PermPublish, name)
	})
}

// WithPublishing enables publishing and the extension endpoints.
func WithPublishing(cfg PublishConfig) Option {
	return func(o *options) error {
		if err := cfg.validate(); err != nil {
			return err
		}
		o.publish = &cfg
		return nil
	}
}

const opPublish = "publish-server"

// ServerJSONBundleHeader carries the publisher's Sigstore bundle over the submitted
// server.json, base64-encoded (policy require.serverJSON). A header, not a field: the
// bundle signs the document, so it cannot live inside it (not even under _meta).
const ServerJSONBundleHeader = "Vetted-ServerJSON-Bundle"

// maxBundleHeader bounds the header (base64); the server's header limit is 64 KiB in all.
const maxBundleHeader = 48 << 10

// publishInput is the raw body only: the server.json is decoded once, strictly, by the
// pipeline (registry.ParseServerJSON), never by huma, whose case-insensitive decoding gave a
// document two meanings (issue 17). The request schema is still documented as the official
// ServerJSON (see documentPublishBody).
type publishInput struct {
	RawBody          []byte
	ServerJSONBundle string `header:"Vetted-ServerJSON-Bundle" doc:"At most 49152 characters. The publisher's Sigstore bundle (JSON, base64-encoded) over this server.json: a message signature over the sha256 of its RFC 8785 canonical form or of the exact body (cosign sign-blob --bundle), or an in-toto statement with that digest as subject (cosign attest-blob --bundle). Required when the namespace policy has require.serverJSON; verified whenever sent."`
}

// PublishResponse is the answer to an accepted publish (published or pending_review): the
// official ServerResponse shape, with the decision under _meta["dev.vetted/publish"].
type PublishResponse struct {
	Server json.RawMessage `json:"server" doc:"The server.json as served (OCI identifiers pinned by digest)"`
	Meta   PublishMeta     `json:"_meta"`
}

// PublishMeta is the _meta of a publish response.
type PublishMeta struct {
	Official *apiv0.RegistryExtensions `json:"io.modelcontextprotocol.registry/official,omitempty"`
	Vetted   json.RawMessage           `json:"dev.vetted/verification,omitempty" doc:"Verification results (see the read API)"`
	Publish  PublishDecision           `json:"dev.vetted/publish"`
}

// PublishDecision is the pipeline's decision with every check.
type PublishDecision struct {
	Decision string      `json:"decision" enum:"published,pending_review,rejected" doc:"published: served now; pending_review: held for a reviewer; rejected: nothing recorded but the audit event"`
	Created  bool        `json:"created" doc:"false when identical content was already recorded (idempotent)"`
	Checks   []CheckWire `json:"checks" doc:"Every check with its outcome and a reason a publisher can act on"`
	AuditSeq int64       `json:"auditSeq,omitempty" doc:"Sequence number of the audit event recording the decision"`
	Warnings []string    `json:"warnings,omitempty" doc:"Fields of the server.json that have no effect (registryBaseUrl and version on OCI packages), and why"`
}

// CheckWire is one check of a decision.
type CheckWire struct {
	Name    string `json:"name" example:"signature"`
	Package string `json:"package,omitempty" example:"packages[0] ghcr.io/acme/weather:1.0.0"`
	Outcome string `json:"outcome" enum:"pass,review,fail"`
	Reason  string `json:"reason"`
	Rule    string `json:"rule,omitempty" example:"container.privileged" doc:"For a lint finding (check launch): its stable rule id"`
	Pointer string `json:"pointer,omitempty" example:"/packages/0/runtimeArguments/0/value" doc:"For a lint finding: the RFC 6901 pointer of the offending value in server.json"`
}

func checksWire(cs []registry.Check) []CheckWire {
	out := make([]CheckWire, len(cs))
	for i, c := range cs {
		out[i] = CheckWire{Name: c.Name, Package: c.Package, Outcome: string(c.Outcome), Reason: c.Reason, Rule: c.Rule, Pointer: c.Pointer}
	}
	return out
}

// RejectionProblem is the RFC 9457 problem of a rejected publish: the official error shape
// (errors[] names each failed check) plus the decision and every check.
type RejectionProblem struct {
	huma.ErrorModel
	Decision string      `json:"decision"`
	Checks   []CheckWire `json:"checks"`
	AuditSeq int64       `json:"auditSeq,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
}

// publishOutput is the publish answer: 200 (published, or an idempotent replay of a
// published version) or 202 (held for review).
type publishOutput struct {
	Status int
	Body   PublishResponse
}

func registerPublish(api huma.API, s *Server, suffix string) {
	huma.Register(api, withPermission(huma.Operation{
		OperationID: opPublish + suffix,
		Method:      http.MethodPost,
		Path:        "/publish",
		Summary:     "Publish an MCP server version",
		Description: "Runs Vetted's publish pipeline on a server.json: authorize the namespace, resolve and pin " +
			"every package (OCI images by digest, npm packages by exact version and tarball integrity), verify signatures and attestations with the namespace's policy, scan the SBOM, " +
			"hash, lint and diff the tool manifest, then decide published, pending_review or rejected. " +
			"A rejection answers 422 with every check; a version held for review answers 202 (accepted, " +
			"not published). Re-publishing identical content answers 200 (202 while it is held) " +
			"(idempotent); different content under an existing version answers 409. The body is a server.json, or an " +
			"envelope {\"server\": {…}, \"evidence\": [{Sigstore bundle}, …], \"serverJSONBundle\": {…}} carrying the " +
			"publisher's evidence for packages whose registry has none (npm SBOM and tool-manifest attestations).",
		Tags:          []string{"publish"},
		Security:      []map[string][]string{{"bearer": {}}},
		MaxBodyBytes:  MaxPublishBody,
		DefaultStatus: http.StatusOK,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict,
			http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
	}, PermPublish), func(ctx context.Context, in *publishInput) (*publishOutput, error) {
		cfg := s.publish
		if cfg == nil {
			return nil, huma.Error503ServiceUnavailable("publishing is not enabled on this registry")
		}
		body := append([]byte(nil), in.RawBody...) // huma reuses the buffer after the handler
		env, eerr := splitPublishBody(body)
		if eerr != nil {
			return nil, eerr.problem()
		}
		raw := env.ServerJSON
		if !env.Envelope && len(raw) > registry.MaxServerJSON {
			return nil, huma.Error413RequestEntityTooLarge(fmt.Sprintf("request body too large: a server.json is at most %d bytes (evidence travels in an envelope, up to %d bytes)", registry.MaxServerJSON, MaxPublishBody))
		}
		bundle, err := decodeBundleHeader(in.ServerJSONBundle)
		if err != nil {
			return nil, err
		}
		if env.ServerJSONBundle != nil {
			if bundle != nil {
				return nil, (&envelopeError{status: http.StatusBadRequest, location: "body." + envServerBundle,
					reason: "a bundle over the server.json was also sent in the " + ServerJSONBundleHeader + " header; send one"}).problem()
			}
			bundle = env.ServerJSONBundle
		}
		actor, authz := cfg.Caller(ctx)
		res, err := cfg.Pipeline.Publish(ctx, registry.PublishRequest{ServerJSON: raw, Actor: actor, Authorizer: authz, ServerJSONBundle: bundle, Evidence: env.Evidence})
		if err != nil {
			if env.Envelope {
				return nil, publishProblemIn(s, err, "body.server")
			}
			return nil, publishProblem(s, err)
		}
		s.pubDecisions.WithLabelValues(string(res.Decision), strconv.FormatBool(res.Created)).Inc()
		warnings := registry.ServerJSONWarnings(raw)
		if res.Decision == registry.DecisionRejected {
			p := rejection(res)
			p.Warnings = warnings
			return nil, p
		}
		s.Invalidate()
		v := res.Version
		out := &publishOutput{Status: http.StatusOK, Body: PublishResponse{
			Server: v.Served,
			Meta: PublishMeta{Vetted: vettedMetaWithLinks(v.Name, v.Version, v.Vetted), Publish: PublishDecision{
				Decision: string(res.Decision), Created: res.Created, Checks: checksWire(res.Checks), AuditSeq: res.AuditSeq,
				Warnings: warnings,
			}},
		}}
		if v.Status == registry.StatusPublished {
			om := officialMeta(v)
			out.Body.Meta.Official = &om
		} else {
			// Held for review: 202 Accepted, so that no client reads it as published (the
			// official mcp-publisher reports anything but 200/201 as not published, with
			// this body).
			out.Status = http.StatusAccepted
		}
		return out, nil
	})
	documentPublishBody(api, opPublish+suffix)
}

// documentPublishBody documents the publish operation's body as the official server.json
// (what the strict decoder accepts) instead of the raw bytes huma sees. It changes the
// document only: huma, which read the operation before, validates nothing.
func documentPublishBody(api huma.API, opID string) {
	oapi := api.OpenAPI()
	plain := oapi.Components.Schemas.Schema(reflect.TypeOf(apiv0.ServerJSON{}), true, "ServerJSON")
	envelope := oapi.Components.Schemas.Schema(reflect.TypeOf(PublishEnvelope{}), true, "PublishEnvelope")
	for _, item := range oapi.Paths {
		if item.Post == nil || item.Post.OperationID != opID {
			continue
		}
		item.Post.RequestBody = &huma.RequestBody{
			Required: true,
			Description: "A server.json (at most 262144 bytes), or a publish envelope carrying one with the publisher's " +
				"evidence. A body is an envelope when a top-level key equals server, evidence or serverJSONBundle under " +
				"case folding; its keys must then be exactly those (each at most once).",
			Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{OneOf: []*huma.Schema{plain, envelope}}}},
		}
	}
}

// PublishEnvelope documents the envelope form of a publish body (the handler reads it with
// splitPublishBody, never by this type).
type PublishEnvelope struct {
	Server   apiv0.ServerJSON `json:"server" doc:"The server.json, judged exactly as a plain body (at most 262144 bytes). Its bytes between the colon and the next delimiter are what is stored and what a bundle over the exact bytes must sign."`
	Evidence []map[string]any `json:"evidence,omitempty" maxItems:"8" doc:"Publisher-supplied Sigstore bundles (JSON objects, at most 2 MiB each, 8 in all) for what the package's own registry does not carry: for an npm package, SBOM and tool-manifest attestations (cosign attest-blob --bundle, actions/attest-sbom, actions/attest) or a signature (cosign sign-blob --bundle) over the tarball's sha512 or sha256. Each must verify with the namespace's policy and bind to the tarball, or the publish is rejected naming it (evidence[i]); verified ones are stored as evidence."`
	// ServerJSONBundle is the same as the Vetted-ServerJSON-Bundle header (send one).
	ServerJSONBundle map[string]any `json:"serverJSONBundle,omitempty" doc:"A Sigstore bundle over the server.json (as the Vetted-ServerJSON-Bundle header carries; send one or the other, at most 49152 bytes)"`
}

// decodeBundleHeader reads the bundle header: standard base64 (padding optional), decoding
// to a JSON object.
func decodeBundleHeader(h string) ([]byte, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, nil
	}
	bad := func(why string) error {
		return huma.Error400BadRequest(ServerJSONBundleHeader+" header: "+why, &huma.ErrorDetail{Location: "header." + ServerJSONBundleHeader, Message: why})
	}
	if len(h) > maxBundleHeader {
		return nil, bad(fmt.Sprintf("longer than %d bytes", maxBundleHeader))
	}
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(h); err != nil {
			return nil, bad("not base64 (standard alphabet)")
		}
	}
	if !json.Valid(b) || len(bytes.TrimSpace(b)) == 0 || bytes.TrimSpace(b)[0] != '{' {
		return nil, bad("does not decode to a JSON Sigstore bundle")
	}
	return b, nil
}

func rejection(res registry.PublishResult) *RejectionProblem {
	p := &RejectionProblem{
		ErrorModel: huma.ErrorModel{
			Title:  http.StatusText(http.StatusUnprocessableEntity),
			Status: http.StatusUnprocessableEntity,
			Detail: "publish rejected: " + failedSummary(res.Checks),
		},
		Decision: string(res.Decision), Checks: checksWire(res.Checks), AuditSeq: res.AuditSeq,
	}
	for _, c := range res.Checks {
		if c.Outcome == registry.Fail {
			loc := "check." + c.Name
			if c.Rule != "" {
				loc += "." + c.Rule
			}
			if c.Pointer != "" {
				loc += " (" + c.Pointer + ")"
			} else if c.Package != "" {
				loc += " (" + c.Package + ")"
			}
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: loc, Message: c.Reason})
		}
	}
	return p
}

func failedSummary(cs []registry.Check) string {
	n, first := 0, ""
	for _, c := range cs {
		if c.Outcome == registry.Fail {
			if n == 0 {
				first = c.Name + ": " + c.Reason
			}
			n++
		}
	}
	if n == 1 {
		return first
	}
	return fmt.Sprintf("%d checks failed; first: %s", n, first)
}

// publishProblem maps the pipeline's errors: a malformed server.json is 422 naming the
// field (as upstream answers schema failures), an unauthorized namespace 403, a different
// version 409; the rest goes through problem.
func publishProblem(s *Server, err error) error { return publishProblemIn(s, err, "body") }

// publishProblemIn is publishProblem for a server.json found at base in the request body
// ("body", or "body.server" in an envelope): field errors name their place under base.
func publishProblemIn(s *Server, err error, base string) error {
	var (
		fe *registry.FieldError
		se huma.StatusError
	)
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &fe):
		return fieldProblem(fe, base)
	case errors.Is(err, registry.ErrForbidden):
		return huma.Error403Forbidden(err.Error())
	}
	return problem(s.log, err)
}

// fieldProblem is the 422 of a refused server.json: one error per problem the decoder
// listed (at most registry.MaxFieldErrors), then "and N more".
func fieldProblem(fe *registry.FieldError, base string) error {
	loc := func(f string) string {
		if f == "body" || strings.HasPrefix(f, "[") {
			return base + strings.TrimPrefix(f, "body")
		}
		return base + "." + f
	}
	details := []error{&huma.ErrorDetail{Location: loc(fe.Field), Message: fe.Reason}}
	for _, a := range fe.Also {
		details = append(details, &huma.ErrorDetail{Location: loc(a.Field), Message: a.Reason})
	}
	if fe.More > 0 {
		details = append(details, moreDetail(fe.More))
	}
	if fe.Syntax {
		return huma.Error400BadRequest("invalid server.json: "+fe.Error(), details...)
	}
	return huma.Error422UnprocessableEntity("invalid server.json: "+fe.Error(), details...)
}
