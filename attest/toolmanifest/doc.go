// Package toolmanifest turns the tools an MCP server announces into something that can be
// pinned, reviewed and enforced: it parses a manifest (the `tools/list` result object,
// `{"tools":[…]}`) strictly from the bytes that were served, canonicalizes every tool with
// RFC 8785 (JCS), hashes each tool and the whole manifest, lints tool definitions for
// poisoning (hidden characters, model-directed instructions, secret references,
// exfiltration, shadowing, look-alike names, abnormal length), and diffs two versions.
//
// It is a pure library: it does no I/O besides reading the bytes its callers hand it, so the
// registry, the CLI and any client can share exactly one definition of "the same tool".
// Nothing is normalized before hashing (hash what is served); anything that different JSON
// parsers could read differently (duplicate keys, case-variant duplicates of known fields,
// lone surrogates, invalid UTF-8) or that would pull in definitions from elsewhere
// (non-local `$ref`) is rejected. The hashing is specified in docs/tool-manifest-hashing.md.
package toolmanifest
