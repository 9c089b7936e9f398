package api

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is what this binary was built from, in upstream's /v0.1/version shape.
type BuildInfo struct {
	Version   string `json:"version" example:"v1.0.0" doc:"Module version (\"(devel)\" for a build from a work tree)"`
	GitCommit string `json:"git_commit" example:"abc123d" doc:"Git commit (\"unknown\" when not recorded; \"+dirty\" when modified)"`
	BuildTime string `json:"build_time" example:"2025-10-14T12:00:00Z" doc:"Commit time recorded by the Go toolchain (\"unknown\" when not recorded)"`
}

// Build returns the module version, VCS commit and time recorded by the Go toolchain
// (debug.ReadBuildInfo).
var Build = sync.OnceValue(func() BuildInfo {
	b := BuildInfo{Version: "unknown", GitCommit: "unknown", BuildTime: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.GitCommit = s.Value
		case "vcs.time":
			b.BuildTime = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.GitCommit != "unknown" {
		b.GitCommit += "+dirty"
	}
	return b
})

type versionOutput struct{ Body BuildInfo }

// PingBody is upstream's /v0.1/ping answer.
type PingBody struct {
	Pong bool `json:"pong" example:"true" doc:"Ping response"`
}

type pingOutput struct{ Body PingBody }

// UpstreamHealth is upstream's /v0.1/health answer (Vetted has no GitHub OAuth client, so
// github_client_id is always omitted).
type UpstreamHealth struct {
	Status         string `json:"status" example:"ok" doc:"Health status"`
	GitHubClientID string `json:"github_client_id,omitempty" doc:"GitHub OAuth App Client ID (never set by Vetted)"`
}

type upstreamHealthOutput struct{ Body UpstreamHealth }

// registerUpstreamMeta registers upstream's version, health and ping routes under prefix.
func registerUpstreamMeta(api huma.API, prefix string) {
	suffix := "-" + prefix[1:]
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "get-version" + suffix, Method: http.MethodGet, Path: prefix + "/version",
		Summary: "Get version information", Tags: []string{"health"},
		Description: "The module version, git commit and build time of this Vetted binary (upstream's shape).",
	}, PermNone), func(context.Context, *struct{}) (*versionOutput, error) {
		return &versionOutput{Body: Build()}, nil
	})
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "get-health" + suffix, Method: http.MethodGet, Path: prefix + "/health",
		Summary: "Health check", Tags: []string{"health"},
		Description: "200 {\"status\":\"ok\"} while the process is up (upstream's shape; /readyz also asks the store).",
	}, PermNone), func(context.Context, *struct{}) (*upstreamHealthOutput, error) {
		return &upstreamHealthOutput{Body: UpstreamHealth{Status: "ok"}}, nil
	})
	huma.Register(api, withPermission(huma.Operation{
		OperationID: "ping" + suffix, Method: http.MethodGet, Path: prefix + "/ping",
		Summary: "Ping", Tags: []string{"health"}, Description: "Answers {\"pong\":true} (upstream's shape).",
	}, PermNone), func(context.Context, *struct{}) (*pingOutput, error) {
		return &pingOutput{Body: PingBody{Pong: true}}, nil
	})
}

// buildInfoGauge is vetted_build_info: 1, labelled with the build.
func buildInfoGauge() prometheus.Collector {
	b := Build()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vetted_build_info",
		Help: "Always 1; labelled with the module version, git commit and build time of this binary.",
	}, []string{"version", "commit", "build_time"})
	g.WithLabelValues(b.Version, b.GitCommit, b.BuildTime).Set(1)
	return g
}
