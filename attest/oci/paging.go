package oci

import (
	"fmt"
	"net/url"
	"strings"
)

// The referrers API may paginate its answer: each page carries a
// `Link: <url>; rel="next"` header (RFC 8288, as for tag listing) naming the next page.

// nextLink returns the target of the first link whose relation types include "next" among
// the Link header values, or "" when there is none. A value that is not a well-formed list of
// `<target>; param=value` links is an error: discovery fails closed rather than stop paging
// early on a header it cannot read.
func nextLink(values []string) (string, error) {
	for _, v := range values {
		for _, link := range splitOutsideQuotes(v, ',') {
			link = strings.TrimSpace(link)
			if link == "" {
				continue
			}
			if !strings.HasPrefix(link, "<") {
				return "", fmt.Errorf("%w: malformed Link header %q", ErrRegistry, v)
			}
			end := strings.IndexByte(link, '>')
			if end < 0 {
				return "", fmt.Errorf("%w: malformed Link header %q", ErrRegistry, v)
			}
			target := link[1:end]
			params := strings.TrimSpace(link[end+1:])
			if params != "" && !strings.HasPrefix(params, ";") {
				return "", fmt.Errorf("%w: malformed Link header %q", ErrRegistry, v)
			}
			for _, p := range splitOutsideQuotes(params, ';') {
				k, val, ok := strings.Cut(p, "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				for _, rel := range strings.Fields(val) {
					if strings.EqualFold(rel, "next") {
						return target, nil
					}
				}
			}
		}
	}
	return "", nil
}

// splitOutsideQuotes splits s at sep, except inside <...> and quoted strings.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	inQuote, inAngle, escaped := false, false, false
	start := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && ch == '\\':
			escaped = true
		case ch == '"' && !inAngle:
			inQuote = !inQuote
		case ch == '<' && !inQuote:
			inAngle = true
		case ch == '>' && !inQuote:
			inAngle = false
		case ch == sep && !inQuote && !inAngle:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// resolveNext resolves a next-page target against the current page's URL and refuses any
// that leaves the registry: another scheme, host or port, or embedded credentials.
func resolveNext(cur *url.URL, target string) (*url.URL, error) {
	ref, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%w: Link rel=\"next\" target %q: %w", ErrRegistry, target, err)
	}
	next := cur.ResolveReference(ref)
	if next.Scheme != cur.Scheme || !strings.EqualFold(next.Host, cur.Host) || next.User != nil {
		return nil, fmt.Errorf("%w: Link rel=\"next\" target %q leaves the registry %s://%s", ErrRegistry, target, cur.Scheme, cur.Host)
	}
	next.Fragment = ""
	next.RawFragment = ""
	return next, nil
}
