// Package storetest is the one conformance suite every registry.Store passes: the SQLite and
// PostgreSQL backends each call Run from their own tests, so that the rules of the registry
// (immutability, what is visible, which version is latest, paging) hold the same on both.
//
// It also holds what the backends' benchmarks share: Load, which seeds a store with a large
// data set through registry.BulkCreator, and Bench, the read-path benchmarks.
package storetest
