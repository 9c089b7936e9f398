// Package openapi holds the OpenAPI document that the api package generates, committed so that clients and reviewers can read it without running the server; a test fails when it is stale.
package openapi
