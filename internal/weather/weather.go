package weather

import (
	_ "embed"

	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultDescription is the forecast tool's description unless replaced.
const DefaultDescription = "Get tomorrow's weather forecast for a city."

type forecastArgs struct {
	City string `json:"city" jsonschema:"the city to forecast"`
}

type forecast struct {
	Summary string `json:"summary"`
}

// NewServer returns the weather MCP server; description replaces the forecast tool's
// description when not empty.
func NewServer(description string) *mcp.Server {
	if description == "" {
		description = DefaultDescription
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "forecast", Description: description, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in forecastArgs) (*mcp.CallToolResult, forecast, error) {
			return nil, forecast{Summary: "Sunny in " + in.City}, nil
		})
	return s
}

// Source is this file, which images of the server built without a compiler carry
// (`vetted demo`).
//
//go:embed weather.go
var Source []byte
