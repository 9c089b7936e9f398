// Package launch reads the launch configuration of a server.json — what an MCP client runs or
// connects to: each package's runtimeHint, runtimeArguments, packageArguments,
// environmentVariables and transport, and each remote's URL and headers — lints it, and
// diffs it against a previous version.
//
// It exists because a signed image says nothing about how it is started: the same verified
// image run with `--privileged -v /:/host --entrypoint /bin/sh` owns the host. The signature,
// SBOM and tool checks cannot see that, so it is judged here, as a pure function of the
// document (no I/O, no clock), in a package of its own so that the rules can be read, tested
// and fuzzed in one place. Findings carry a stable rule id, a severity ("critical": can take
// the host; "high": changes what code runs; "medium", "low") and the RFC 6901 pointer of the
// offending value; the registry's pipeline maps them to its `launch` check.
package launch
