package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vetted-dev/vetted/registry"
)

// Extension endpoints, under /v0.1/x/<Vetted's namespace>/ as the official registry's
// extension convention asks.
const (
	// ExtensionPrefix is where Vetted's extension endpoints live.
	ExtensionPrefix = "/v0.1/x/dev.vetted"
	// VSAKeyPath serves the PEM public key of the registry's signed attestations.
	VSAKeyPath = "/.well-known/dev.vetted/vsa-public-key.pem"
)

// Links returns the extension links of a version, as served in its _meta.
func Links(name, version string) map[string]string {
	base := linkBase(name, version)
	m := make(map[string]string, len(versionLinks))
	for _, l := range versionLinks {
		m[l.key] = l.url(base)
	}
	return m
}

// versionLinks are a version's extension links in key order (the order encoding/json
// writes a map in, which appendLinks follows).
var versionLinks = []versionLink{
	{"attestation", "/attestation", false},
	{"attestationKey", VSAKeyPath, true},
	{"provenance", "/provenance", false},
	{"scan", "/scan", false},
	{"tools", "/tools", false},
	{"verification", "/verification", false},
}

type versionLink struct {
	key, path string
	absolute  bool // path is the link itself, not a path under the version's base
}

// url is the link for a version whose links start with base.
func (l versionLink) url(base string) string {
	if l.absolute {
		return l.path
	}
	return base + l.path
}

func linkBase(name, version string) string {
	return ExtensionPrefix + "/servers/" + escapeSegment(name) + "/versions/" + escapeSegment(version)
}

func escapeSegment(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), "/", "%2F")
}

type extInput struct {
	ServerName  string `path:"serverName" doc:"URL-encoded server name" example:"io.github.acme%2Fweather"`
	Version     string `path:"version" doc:"URL-encoded server version, or 'latest'" example:"1.0.0"`
	IfNoneMatch string `header:"If-None-Match" doc:"ETag of a previous response; 304 when unchanged"`
}

type scanInput struct {
	ServerName  string `path:"serverName" doc:"URL-encoded server name" example:"io.github.acme%2Fweather"`
	Version     string `path:"version" doc:"URL-encoded server version, or 'latest'" example:"1.0.0"`
	IfNoneMatch string `header:"If-None-Match" doc:"ETag of a previous response; 304 when unchanged"`
	Format      string `query:"format" enum:"json,sarif" default:"json" doc:"Report format: Vetted's JSON report or SARIF 2.1.0"`
}

// bytesOutput writes a stored document as is.
type bytesOutput struct {
	Body func(huma.Context)
}

func writeBytes(contentType, etag string, body []byte, ifNoneMatch string) *bytesOutput {
	return &bytesOutput{Body: func(c huma.Context) {
		if etag != "" {
			c.SetHeader("ETag", etag)
			if etagMatches(ifNoneMatch, etag) {
				c.SetStatus(http.StatusNotModified)
				return
			}
		}
		c.SetHeader("Content-Type", contentType)
		c.SetHeader("Content-Length", strconv.Itoa(len(body)))
		c.SetStatus(http.StatusOK)
		_, _ = c.BodyWriter().Write(body)
	}}
}

func rawResponses(contentType, desc string) map[string]*huma.Response {
	return map[string]*huma.Response{
		"200": {Description: desc, Headers: map[string]*huma.Param{"ETag": {Description: "Entity tag", Schema: &huma.Schema{Type: "string"}}},
			Content: map[string]*huma.MediaType{contentType: {Schema: &huma.Schema{Type: "object"}}}},
		"304": {Description: "Not Modified"},
	}
}

// published resolves name@version ("latest" too) to a published version and its record.
func (s *Server) published(ctx context.Context, in extInput) (registry.Version, registry.VersionRecord, error) {
	cfg := s.publish
	if cfg == nil {
		return registry.Version{}, registry.VersionRecord{}, huma.Error404NotFound("verification records are not enabled on this registry")
	}
	name, err := pathName(in.ServerName)
	if err != nil {
		return registry.Version{}, registry.VersionRecord{}, err
	}
	var v registry.Version
	if in.Version == "latest" {
		v, err = s.store.LatestPublished(ctx, name)
		if err != nil {
			return v, registry.VersionRecord{}, notFound(err, "server %q", name)
		}
	} else {
		ver, err := pathVersion(in.Version)
		if err != nil {
			return v, registry.VersionRecord{}, err
		}
		v, err = s.store.GetVersion(ctx, registry.Key{Name: name, Version: ver})
		if err == nil && v.Status != registry.StatusPublished {
			err = registry.ErrNotFound
		}
		if err != nil {
			return v, registry.VersionRecord{}, notFound(err, "version %q of server %q", ver, name)
		}
	}
	rec, err := cfg.Evidence.VersionRecord(ctx, registry.Key{Name: v.Name, Version: v.Version})
	if err != nil {
		return v, rec, notFound(err, "verification record of %s@%s", v.Name, v.Version)
	}
	return v, rec, nil
}

func quoted(s string) string { return `"` + s + `"` }

func registerExtensions(api huma.API, s *Server) {
	s.pubDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vetted_publish_decisions_total",
		Help: "Publishes by decision (published, pending_review, rejected) and whether they created a version.",
	}, []string{"decision", "created"})
	s.metrics.reg.MustRegister(s.pubDecisions)
	ext := huma.NewGroup(api, ExtensionPrefix)
	registerAdmin(ext, s)
	registerKeysAdmin(ext, s)
	base := "/servers/{serverName}/versions/{version}"
	op := func(id, path, summary, desc, ct string) huma.Operation {
		return withPermission(huma.Operation{
			OperationID: id, Method: http.MethodGet, Path: base + path, Summary: summary, Description: desc,
			Tags: []string{"verification"}, Responses: rawResponses(ct, summary),
			Errors: []int{http.StatusBadRequest, http.StatusNotFound},
		}, PermRead)
	}

	huma.Register(ext, op("get-tool-manifest", "/tools", "Tool manifest",
		"The version's tool manifest ({\"tools\":[…]}) exactly as attested. The ETag is the manifest digest "+
			"(\"sha256:…\", see docs/tool-manifest-hashing); clients pin it and compare live tools against it.",
		"application/json"),
		func(ctx context.Context, in *extInput) (*bytesOutput, error) {
			_, rec, err := s.published(ctx, *in)
			if err != nil {
				return nil, problem(s.log, err)
			}
			if len(rec.ToolManifest) == 0 {
				return nil, problem(s.log, huma.Error404NotFound("this version has no tool manifest"))
			}
			return writeBytes("application/json", quoted(rec.ToolManifestDigest), rec.ToolManifest, in.IfNoneMatch), nil
		})

	huma.Register(ext, op("get-provenance", "/provenance", "Provenance",
		"Per OCI package: the pinned digest and the verified provenance facts (builder, source repository, commit, ref, workflow, trigger, runner).",
		"application/json"),
		func(ctx context.Context, in *extInput) (*bytesOutput, error) {
			v, rec, err := s.published(ctx, *in)
			if err != nil {
				return nil, problem(s.log, err)
			}
			pk, err := s.publish.Evidence.PinnedPackages(ctx, registry.Key{Name: v.Name, Version: v.Version})
			if err != nil {
				return nil, problem(s.log, err)
			}
			body, err := json.Marshal(map[string]any{"name": v.Name, "version": v.Version, "packages": pk, "provenance": nonEmpty(rec.Provenance)})
			if err != nil {
				return nil, problem(s.log, err)
			}
			return writeBytes("application/json", quoted(registry.Digest(body)), body, in.IfNoneMatch), nil
		})

	huma.Register(ext, op("get-scan-report", "/scan", "Scan report",
		"The latest scan of the version's SBOM against the OSV mirror (the snapshot id is in the report), as Vetted's JSON report or SARIF 2.1.0.",
		"application/json"),
		func(ctx context.Context, in *scanInput) (*bytesOutput, error) {
			_, rec, err := s.published(ctx, extInput{ServerName: in.ServerName, Version: in.Version})
			if err != nil {
				return nil, problem(s.log, err)
			}
			if len(rec.ScanReport) == 0 {
				return nil, problem(s.log, huma.Error404NotFound("this version has no scan report"))
			}
			if in.Format == "sarif" {
				if s.publish.SARIF == nil {
					return nil, huma.Error406NotAcceptable("SARIF is not available on this registry")
				}
				body, err := s.publish.SARIF(rec.ScanReport)
				if err != nil {
					return nil, problem(s.log, err)
				}
				return writeBytes("application/sarif+json", quoted(registry.Digest(body)), body, in.IfNoneMatch), nil
			}
			return writeBytes("application/json", quoted(registry.Digest(rec.ScanReport)), rec.ScanReport, in.IfNoneMatch), nil
		})

	huma.Register(ext, op("get-verification", "/verification", "Verification result",
		"The decision with every check, the verification results per package (signer identities, log entries, "+
			"timestamps, predicate types, subject digests), and the scan summary.",
		"application/json"),
		func(ctx context.Context, in *extInput) (*bytesOutput, error) {
			_, rec, err := s.published(ctx, *in)
			if err != nil {
				return nil, problem(s.log, err)
			}
			body, err := json.Marshal(map[string]any{
				"name": rec.Name, "version": rec.Version, "decision": rec.Decision, "decidedAt": rec.DecidedAt,
				"checks": checksWire(rec.Checks), "verification": nonEmpty(rec.Verification), "scanSnapshot": rec.ScanSnapshot,
				"scanSummary": nonEmpty(rec.ScanSummary), "toolManifestDigest": rec.ToolManifestDigest,
				"toolReport": nonEmpty(rec.ToolReport), "evidence": rec.Evidence,
			})
			if err != nil {
				return nil, problem(s.log, err)
			}
			return writeBytes("application/json", quoted(registry.Digest(body)), body, in.IfNoneMatch), nil
		})

	huma.Register(ext, op("get-attestation", "/attestation", "The registry's signed attestation",
		"A DSSE envelope over an in-toto statement with predicate https://slsa.dev/verification_summary/v1, "+
			"whose subjects are the image digests and the tool manifest digest, signed with the registry's key "+
			"(public key at "+VSAKeyPath+").",
		"application/json"),
		func(ctx context.Context, in *extInput) (*bytesOutput, error) {
			_, rec, err := s.published(ctx, *in)
			if err != nil {
				return nil, problem(s.log, err)
			}
			if len(rec.VSA) == 0 {
				return nil, problem(s.log, huma.Error404NotFound("this version has no registry attestation"))
			}
			return writeBytes("application/json", quoted(registry.Digest(rec.VSA)), rec.VSA, in.IfNoneMatch), nil
		})

	huma.Register(api, withPermission(huma.Operation{
		OperationID: "get-vsa-public-key", Method: http.MethodGet, Path: VSAKeyPath,
		Summary:     "The registry's attestation key",
		Description: "PEM public key (ECDSA P-256) that verifies the registry's verification summary attestations.",
		Tags:        []string{"verification"}, Responses: map[string]*huma.Response{"200": {Description: "PEM public key",
			Content: map[string]*huma.MediaType{"application/x-pem-file": {Schema: &huma.Schema{Type: "string"}}}}},
		Errors: []int{http.StatusNotFound},
	}, PermNone), func(ctx context.Context, _ *struct{}) (*bytesOutput, error) {
		if s.publish == nil || len(s.publish.VSAPublicKey) == 0 {
			return nil, huma.Error404NotFound("this registry signs no attestations")
		}
		return writeBytes("application/x-pem-file", "", s.publish.VSAPublicKey, ""), nil
	})

	type auditInput struct {
		After int64 `query:"after" minimum:"0" doc:"Return events with a sequence number above this"`
		Limit int   `query:"limit" default:"1000" minimum:"1" maximum:"10000" doc:"Events per page"`
	}
	huma.Register(ext, withPermission(huma.Operation{
		OperationID: "list-audit-events", Method: http.MethodGet, Path: "/audit",
		Summary:     "Audit chain",
		Description: "Events of the append-only audit chain in sequence order; each carries the hash of the one before it. `vetted audit verify --registry URL` checks the chain.",
		Tags:        []string{"audit"}, Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
	}, PermReview), func(ctx context.Context, in *auditInput) (*struct{ Body AuditPage }, error) {
		if s.publish == nil || s.publish.Audit == nil {
			return nil, huma.Error404NotFound("the audit chain is not served by this registry")
		}
		es, err := s.publish.Audit.AuditEvents(ctx, in.After, in.Limit)
		if err != nil {
			return nil, problem(s.log, err)
		}
		if es == nil {
			es = []registry.AuditEvent{}
		}
		return &struct{ Body AuditPage }{Body: AuditPage{Events: es}}, nil
	})
}

// registerAdmin registers the admin operations of continuous scanning.
func registerAdmin(ext huma.API, s *Server) {
	huma.Register(ext, withPermission(huma.Operation{
		OperationID: "run-rescan", Method: http.MethodPost, Path: "/admin/rescan",
		Summary: "Sync the OSV mirror and re-scan now",
		Description: "Runs the OSV sync and the re-scan of every published and quarantined version now, on this " +
			"replica, unless another replica holds the job (409). Versions that now fail the scan policy are " +
			"quarantined, versions the scanner quarantined and that now pass are released; each change is audited.",
		Tags: []string{"admin"}, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusNotFound},
	}, PermAdmin), func(ctx context.Context, _ *struct{}) (*struct{ Body any }, error) {
		if s.publish == nil || s.publish.Rescan == nil {
			return nil, huma.Error404NotFound("continuous scanning is not enabled on this registry")
		}
		res, err := s.publish.Rescan(ctx)
		if err != nil {
			return nil, problem(s.log, err)
		}
		s.Invalidate()
		return &struct{ Body any }{Body: res}, nil
	})
}

// AuditPage is a page of the audit chain.
type AuditPage struct {
	Events []registry.AuditEvent `json:"events"`
}

func nonEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
