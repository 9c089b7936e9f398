// Package mcpb reads MCP bundles (.mcpb, formerly .dxt: a zip archive with a manifest.json
// at its root, the desktop-extension format one-click MCP servers ship in). It downloads a
// bundle through the transport it is given, bounded, and checks it against the fileSha256
// server.json declares; it reads the bundle's manifest.json strictly (bounded entries and
// sizes, no path traversal, no duplicate JSON keys) and the tools it declares. It does no
// cryptography: the signature over the bundle's digest is verified in package attest.
package mcpb
