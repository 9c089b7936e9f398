// Package loadgen is Vetted's read-path load generator and benchmark data set: a closed-loop
// HTTP/1.1 client (N keep-alive connections, each sending its next request when the previous
// answer is read, for a fixed duration) that reports requests per second and latency
// percentiles, and a generator of realistic server.json documents to seed a store with.
//
// It speaks raw HTTP/1.1 over TCP instead of using net/http's client, because on a small
// machine the load generator shares the CPU with the server it measures: the cheaper each
// request is to send, the more of the machine the server gets. It only connects to loopback
// addresses.
package loadgen
