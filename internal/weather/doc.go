// Package weather is the small MCP server of the publishing examples: one read-only tool,
// forecast, whose description can be replaced. It is a package, not only a command
// (examples/weather-server), so that `vetted demo` can run the very same server in process
// to capture its tool manifest, with no compiler or container runtime on the machine.
package weather
