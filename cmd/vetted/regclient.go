package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// regClient talks to a Vetted registry's HTTP API for publish, resolve and audit.
type regClient struct {
	base  *url.URL
	token string
	http  *http.Client
}

const maxRegistryResponse = 16 << 20

func newRegClient(raw, token string) (*regClient, error) {
	if raw == "" {
		return nil, usageErrorf("--registry is required (the registry's base URL, e.g. https://registry.example.com)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("--registry %q: want an http(s) URL", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &regClient{base: u, token: token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// url joins the base URL with a path whose segments are already escaped.
func (c *regClient) url(path string) string { return c.base.String() + path }

// problemError is a registry's RFC 9457 answer.
type problemError struct {
	Status int
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
	Body []byte `json:"-"`
}

func (p *problemError) Error() string {
	msg := fmt.Sprintf("registry answered %d", p.Status)
	if p.Detail != "" {
		msg += ": " + p.Detail
	} else if p.Title != "" {
		msg += ": " + p.Title
	}
	for _, e := range p.Errors {
		msg += fmt.Sprintf("\n  %s: %s", e.Location, e.Message)
	}
	return msg
}

// do sends a request and returns the body of a 2xx answer, or a *problemError.
func (c *regClient) do(ctx context.Context, method, path string, body io.Reader, hdr map[string]string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return nil, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("registry unreachable: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRegistryResponse+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the registry's answer: %w", err)
	}
	if len(b) > maxRegistryResponse {
		return nil, nil, fmt.Errorf("the registry's answer is larger than %d bytes", maxRegistryResponse)
	}
	if resp.StatusCode/100 != 2 {
		p := &problemError{Status: resp.StatusCode, Body: b}
		_ = json.Unmarshal(b, p)
		return nil, resp.Header, p
	}
	return b, resp.Header, nil
}

func (c *regClient) getJSON(ctx context.Context, path string, v any) error {
	b, _, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: the registry's answer is not the expected JSON: %w", path, err)
	}
	return nil
}

func isStatus(err error, code int) bool {
	var p *problemError
	return errors.As(err, &p) && p.Status == code
}

// escapeSegment escapes one path segment ("io.github.acme/weather" → "io.github.acme%2Fweather").
func escapeSegment(s string) string { return url.PathEscape(s) }
