// Command refregistry serves go-containerregistry's in-process registry with the OCI 1.1
// referrers API on a loopback address, for the end-to-end suite: Debian's docker-registry has
// no referrers API. It prints the address it listens on and serves until killed.
package main
