// Package ui serves the security team's web pages under /ui: dashboard, review queue, review
// page (tool-definition diff side by side, lint findings in context, verification,
// provenance and scan summary, approve and reject), version, vulnerability, VEX and audit
// pages.
//
// The pages are server-rendered with html/template from embedded files and need no
// JavaScript. They hold no session: the caller's token (from the configured OpenID provider,
// authorization code with PKCE, or pasted from `vetted token issue`) lives in an HttpOnly,
// Secure, SameSite=Strict cookie and is verified on every request exactly like a bearer
// token. Every state-changing form carries a CSRF token bound to that cookie by an HMAC, and
// cross-site requests are refused by their Origin and Sec-Fetch-Site headers.
//
// It is cut apart from package api because pages and the JSON API change for different
// reasons; both drive the same registry.Desk.
package ui
