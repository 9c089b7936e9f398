// Package trustroottest serves an in-process TUF repository, signed with fresh test keys,
// whose single target is a trusted_root.json, so that the trusted-root refresh
// (attest/trustroot) and the command that exposes it (vetted trust refresh) are tested
// against a real TUF client without reaching the network.
package trustroottest
