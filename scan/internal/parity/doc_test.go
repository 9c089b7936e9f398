// Package parity checks Vetted's matcher against osv-scanner v2.6.0 as an oracle, on the
// shared real SBOMs and OSV records, and benchmarks the two on a synthetic mirror. It holds
// only tests because osv-scanner links a great deal; no other package's tests pay for it.
package parity
