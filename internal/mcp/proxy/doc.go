// Package proxy is a transparent MCP proxy that holds a running server to its pinned tool
// manifest. It sits between a host (newline-delimited JSON-RPC on stdio) and the server
// (a process on stdio, or streamable HTTP) and forwards every frame unchanged, both ways,
// except what it must withhold:
//
//   - a result that carries tools (tools/list) keeps only the tools whose definition hashes
//     to the pinned digest, each one's bytes exactly as the server sent them; the rest of
//     the frame is untouched;
//   - tools/call for a tool that is not currently served is answered by the proxy with a
//     JSON-RPC error naming the tool and the reason, and never reaches the server.
//
// initialize (with the server's own serverInfo, capabilities and instructions), prompts,
// resources, roots, sampling, elicitation, logging, completion, progress, cancellation and
// every notification pass as they are. After the host's notifications/initialized, and on
// every notifications/tools/list_changed, the proxy lists the tools itself (requests with
// ids of its own, whose answers it consumes) and compares them with the pin; calls wait for
// that verdict. It fails closed: when the tools cannot be listed, no call passes, and a
// frame it cannot read strictly (duplicate or case-variant members, bad JSON) is dropped,
// because a peer might read it differently. The SDKs are not used on the wire, so nothing
// is re-encoded; it is cut this way because an SDK round trip drops what it does not know.
package proxy
