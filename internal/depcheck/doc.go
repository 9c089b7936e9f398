// Package depcheck holds only a test: the dependency budget of Vetted's layers. It fails
// when a package imports what its layer must not (the domain importing a database driver
// or the HTTP framework; attest or scan importing storage, HTTP serving or the registry),
// so that the one-way rule cmd -> api -> registry -> {attest, scan} cannot rot unnoticed.
package depcheck
