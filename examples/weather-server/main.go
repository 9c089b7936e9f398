// Command weather-server is the small MCP server the publishing examples package, sign,
// publish and check (examples/e2e.d/50-publish.sh, docs/quickstart.md). It serves one tool
// over stdio; the WEATHER_DESCRIPTION environment variable replaces the tool's description,
// which is how the example shows a server that no longer matches its published tool
// manifest. The server itself is internal/weather, which `vetted demo` also runs.
package main

import (
	"context"
	"log"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/vetted-dev/vetted/internal/weather"
)

func main() {
	s := weather.NewServer(os.Getenv("WEATHER_DESCRIPTION"))
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Fatal(err)
	}
}
