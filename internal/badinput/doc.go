// Package badinput is Vetted's corpus of malformed requests (issue 17 item 10): bodies,
// queries, paths, headers, tokens, case-fold keys, huge and deep documents, and every
// finding of the adversarial review, each with the answer it must get.
//
// Generate builds the corpus; the committed copy is examples/badinput/corpus.jsonl (a test
// keeps it current: `go test ./internal/badinput -update` rewrites it). Replay sends it to a
// running `vetted serve` and checks what the issue asks of every answer: no 5xx, the
// expected status, a bounded size (problem documents under 16 KiB); the e2e script
// (examples/e2e.d/70-badinput.sh) adds the server's log (no panic) and its peak RSS.
//
// It is a package of its own so that the generator, its test and the replay program (cmd
// replay) share one definition of a case.
package badinput
