// Command vetted is the single binary of Vetted: the registry server (serve) and the tools
// that publishers, clients and security teams run against it (publish, resolve, check,
// proxy, verify, scan, osv sync, tools, token, audit).
//
// main is tiny; the work is in Run, which takes its arguments and output streams so that
// every command is tested in process. Only this package reads flags, environment variables
// and the configuration file; the libraries it calls take options.
//
// Exit codes: 0 success, 1 a check failed (verification, policy, drift, --fail-on),
// 2 usage or input error.
package main
