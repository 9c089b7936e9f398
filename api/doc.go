// Package api is Vetted's HTTP surface: the read API wire-compatible with the official MCP registry (v0.1), Vetted's extension endpoints, authentication and authorization middleware, and the reviewers' web pages.
//
// Handlers return errors; one function maps them to RFC 9457 problem responses. Wire types are converted to domain types here and nowhere else.
package api
