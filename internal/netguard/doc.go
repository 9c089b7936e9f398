// Package netguard is the one outbound path of Vetted: every fetch Vetted makes on its own
// initiative (OCI registries, the OSV mirror, OIDC discovery and JWKS) goes through a Guard's
// dialer and transport.
//
// A Guard refuses, before any packet is sent:
//   - hosts that are not on its allowlist (checked on the first request and on every redirect);
//   - loopback, private (RFC 1918, IPv6 ULA), link-local, CGNAT, unspecified, multicast and
//     other special-purpose addresses, and the cloud metadata endpoints (169.254.169.254,
//     fd00:ec2::254), unless the operator allowed a network explicitly.
//
// Addresses are checked after resolution, on the IP the socket actually connects to
// (net.Dialer.Control), so a name that resolves to a public address when checked and to a
// private one when dialed (DNS rebinding) is still refused. Responses are bounded in size and
// time. The package is cut on its own so that attest, scan and api take a plain
// http.RoundTripper and know nothing of the policy.
package netguard
