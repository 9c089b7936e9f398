// Package adapt satisfies the publish pipeline's seams (registry.Verifier, registry.Scanner,
// registry.ToolInspector) with Vetted's libraries: attest, scan and attest/toolmanifest.
//
// It is cut out of registry so that the domain keeps declaring the small interfaces it needs
// and stays testable with hand-written fakes, while the translation from each library's
// typed results into checks a publisher can act on lives in one place.
package adapt
