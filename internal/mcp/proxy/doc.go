// Package proxy is an MCP proxy that holds a running server to its pinned tool
// manifest. It sits between a host and the server with the official go-sdk on both sides:
// upstream it is a client of the server (tools/list captured raw, see capture),
// downstream it is a server to the host that offers only the tools whose live definition
// hashes to the pinned digest, serves the pinned definition for them, and refuses every
// other call with a JSON-RPC error that says which tool was refused and why. When the
// server announces notifications/tools/list_changed, calls wait while the tools are listed
// and compared again. Every refusal is logged. It fails closed: if the server's tools cannot
// be listed, nothing is served.
package proxy
