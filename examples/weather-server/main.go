// Command weather-server is the small MCP server the publishing examples package, sign,
// publish and check (examples/e2e.d/50-publish.sh). It serves one tool over stdio; the
// WEATHER_DESCRIPTION environment variable replaces the tool's description, which is how the
// example shows a server that no longer matches its published tool manifest.
package main

import (
	"context"
	"log"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type forecastArgs struct {
	City string `json:"city" jsonschema:"the city to forecast"`
}

type forecast struct {
	Summary string `json:"summary"`
}

func main() {
	desc := "Get tomorrow's weather forecast for a city."
	if d := os.Getenv("WEATHER_DESCRIPTION"); d != "" {
		desc = d
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "forecast", Description: desc, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in forecastArgs) (*mcp.CallToolResult, forecast, error) {
			return nil, forecast{Summary: "Sunny in " + in.City}, nil
		})
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Fatal(err)
	}
}
