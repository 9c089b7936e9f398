// Package capture connects to an MCP server as a client (the official go-sdk), pages
// through tools/list and returns the tools exactly as the server sent them, as a
// toolmanifest.Manifest.
//
// The SDK's mcp.Tool type drops members it does not know and re-encodes schemas through
// map[string]any, so hashing what it returns would miss exactly the fields an attacker
// would use. This package therefore taps the JSON-RPC traffic below the SDK: over stdio a
// wrapper around the connection sees every decoded message with its result still as raw
// bytes, and over streamable HTTP a RoundTripper reads the JSON and SSE bodies as they
// stream past. The SDK still does the protocol work (initialize, paging, notifications);
// the tap only records the raw result of each tools/list call. Every capture is bounded in
// time, message size, pages and tools; a server that never answers is an error.
package capture
