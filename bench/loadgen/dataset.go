package loadgen

import (
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// Words make up server names, so that searches match realistic numbers of servers.
var Words = []string{
	"weather", "github", "postgres", "slack", "files", "search", "browser", "notion", "jira",
	"calendar", "maps", "kubernetes", "docker", "aws", "azure", "gcp", "redis", "mongo", "sqlite",
	"email", "pdf", "images", "translate", "finance", "stocks", "crypto", "news", "wiki", "code",
	"memory", "time", "shell", "git", "sentry", "grafana", "stripe", "figma", "linear", "zoom",
}

// Name returns the name of server i of the data set: io.github.org<i>/<word>-<word>-mcp.
func Name(i int) string {
	a := Words[i%len(Words)]
	b := Words[(i/len(Words))%len(Words)]
	return fmt.Sprintf("io.github.org%05d/%s-%s-mcp", i, a, b)
}

// VersionString returns version j of every server ("1.0.0", "1.1.0", …); the last is latest.
func VersionString(j int) string { return fmt.Sprintf("1.%d.0", j) }

// Dataset returns servers × versions published versions with realistic server.json
// documents (about 1.3 KB: an OCI package with arguments and environment variables, a
// remote, a repository) and a verification summary under Vetted's _meta key.
func Dataset(servers, versions int) []registry.Version { return DatasetRange(0, servers, versions) }

// DatasetRange returns the versions of servers from..to-1 of the data set (so that large
// data sets are seeded in batches without holding them in memory).
func DatasetRange(from, to, versions int) []registry.Version {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]registry.Version, 0, max(0, to-from)*versions)
	for i := from; i < to; i++ {
		name := Name(i)
		for j := 0; j < versions; j++ {
			v := VersionString(j)
			doc := serverJSON(i, name, v)
			vetted := fmt.Sprintf(`{"verifiedAt":"2026-01-01T00:00:00Z","signer":{"issuer":"https://token.actions.githubusercontent.com",`+
				`"identity":"https://github.com/org%05d/mcp/.github/workflows/release.yml@refs/tags/v%s"},`+
				`"provenance":{"builder":"https://github.com/actions/runner","sourceRepository":"https://github.com/org%05d/mcp","commit":"%040x"},`+
				`"scan":{"osvSnapshot":"2026-01-01T00:00:00Z","findings":0},"toolManifestDigest":"sha256:%064x"}`, i, v, i, i*versions+j, i*versions+j)
			at := t0.Add(time.Duration(i*versions+j) * time.Second)
			out = append(out, registry.Version{
				Name: name, Version: v, Status: registry.StatusPublished,
				ServerJSON: []byte(doc), Served: []byte(doc), Vetted: []byte(vetted),
				PublishedAt: at, UpdatedAt: at,
			})
		}
	}
	return out
}

func serverJSON(i int, name, v string) string {
	return fmt.Sprintf(`{
  "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
  "name": %q,
  "title": "Org %05d MCP",
  "description": "MCP server for %s and %s: lists, reads and updates records on behalf of the user.",
  "version": %q,
  "repository": {"url": "https://github.com/org%05d/mcp", "source": "github", "subfolder": "server"},
  "websiteUrl": "https://org%05d.example.com/mcp",
  "packages": [{
    "registryType": "oci",
    "identifier": "ghcr.io/org%05d/mcp@sha256:%064x",
    "version": %q,
    "transport": {"type": "stdio"},
    "runtimeArguments": [{"type": "named", "name": "--read-only", "description": "Mount the root file system read-only"}],
    "packageArguments": [{"type": "named", "name": "--log-level", "value": "info", "description": "Log level"}],
    "environmentVariables": [
      {"name": "API_TOKEN", "description": "Token for the upstream API", "isRequired": true, "isSecret": true},
      {"name": "API_URL", "description": "Base URL of the upstream API", "default": "https://api.example.com"}
    ]
  }],
  "remotes": [{"type": "streamable-http", "url": "https://mcp.org%05d.example.com/mcp"}]
}`, name, i, Words[i%len(Words)], Words[(i/len(Words))%len(Words)], v, i, i, i, i, v, i)
}
