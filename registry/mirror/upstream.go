package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
)

// ParseUpstream checks an upstream registry's base URL (http or https, a host, no query,
// fragment or credentials) and returns it without a trailing slash: the list route is
// <base>/v0.1/servers.
func ParseUpstream(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("upstream %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("upstream %q: want an http:// or https:// URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("upstream %q: no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("upstream %q: credentials in the URL are not allowed", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("upstream %q: no query or fragment, only the registry's base URL", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// entry is one server version as the upstream's list serves it: the server.json as sent
// (its canonical digest is what immutability compares) and the official _meta.
type entry struct {
	Server json.RawMessage    `json:"server"`
	Meta   apiv0.ResponseMeta `json:"_meta"`
}

type page struct {
	Servers  []entry        `json:"servers"`
	Metadata apiv0.Metadata `json:"metadata"`
}

// fetchPage GETs one page of the upstream's list: everything updated after since (all when
// zero), deleted entries included, from cursor.
func (m *Mirror) fetchPage(ctx context.Context, since time.Time, cursor string) (*page, error) {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(m.limits.PageSize))
	q.Set("include_deleted", "true")
	if !since.IsZero() {
		q.Set("updated_since", since.UTC().Format(time.RFC3339Nano))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	u := m.upstream + "/v0.1/servers?" + q.Encode()
	ctx, cancel := context.WithTimeout(ctx, m.limits.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("upstream request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vetted-mirror")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", m.upstream, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, m.limits.MaxPageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("upstream %s: read the list: %w", m.upstream, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("upstream %s: the list answered %s: %s", m.upstream, resp.Status, snippet(body))
	}
	if int64(len(body)) > m.limits.MaxPageBytes {
		return nil, fmt.Errorf("upstream %s: a page of the list is larger than %d bytes", m.upstream, m.limits.MaxPageBytes)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("upstream %s: the list is not the v0.1 shape: %w", m.upstream, err)
	}
	if len(p.Servers) > m.limits.PageSize {
		return nil, fmt.Errorf("upstream %s: a page holds %d entries, more than the %d asked for", m.upstream, len(p.Servers), m.limits.PageSize)
	}
	if p.Metadata.NextCursor != "" && p.Metadata.NextCursor == cursor {
		return nil, errors.New("upstream " + m.upstream + ": the next cursor is the one just used (the list does not advance)")
	}
	return &p, nil
}

// snippet is the start of an upstream's error body, for the report.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
