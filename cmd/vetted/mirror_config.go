package main

import (
	"fmt"
	"time"

	"github.com/vetted-dev/vetted/registry/mirror"
)

func init() { addConfigSection("mirror") }

// mirrorConfig is the `mirror:` section of vetted.yaml: upstream registries whose servers
// are curated into this one (docs/mirror.md).
//
//	mirror:
//	  upstreams:
//	    - url: https://registry.modelcontextprotocol.io   # any registry speaking the v0.1 API
//	      interval: 6h                     # `vetted serve` runs it (once across replicas); 0/absent: only `vetted mirror`
//	      include: [io.github.acme/*]      # name patterns (path.Match); required
//	      exclude: [io.github.acme/experimental-*]
//	      package_types: [oci, npm]        # every package must be one of them ("remote": remote-only servers)
//	      latest_only: true                # only what the upstream marks latest
//	      policies:                        # the curation policy: first matching namespace wins; no match = rejected
//	        - namespace: io.github.acme/*
//	          policy: policies/acme-provenance.yaml   # an attest policy (docs/verification.md)
//	      limits: {page_size: 100, max_pages: 100, max_entries: 2000, max_page_bytes: 8388608, request_timeout: 30s, max_duration: 10m}
//
// The upstream URL is allowed by the outbound guard at its own host, port and scheme; a
// private or loopback address still needs outbound.allow_networks. Everything else (the
// OCI and npm registries the packages name, scanning, tool and launch policy, the VSA key)
// is the publish: section's.
type mirrorConfig struct {
	Upstreams []mirrorUpstreamConfig `json:"upstreams"`
}

type mirrorUpstreamConfig struct {
	URL          string   `json:"url"`
	Interval     string   `json:"interval,omitempty"`
	Include      []string `json:"include"`
	Exclude      []string `json:"exclude,omitempty"`
	PackageTypes []string `json:"package_types,omitempty"`
	LatestOnly   bool     `json:"latest_only,omitempty"`
	Policies     []struct {
		Namespace string `json:"namespace"`
		Policy    string `json:"policy"`
	} `json:"policies"`
	Limits struct {
		PageSize       int    `json:"page_size,omitempty"`
		MaxPages       int    `json:"max_pages,omitempty"`
		MaxEntries     int    `json:"max_entries,omitempty"`
		MaxPageBytes   int64  `json:"max_page_bytes,omitempty"`
		RequestTimeout string `json:"request_timeout,omitempty"`
		MaxDuration    string `json:"max_duration,omitempty"`
	} `json:"limits"`
}

// mirrorUpstream is one checked upstream of the section.
type mirrorUpstream struct {
	URL      string
	Interval time.Duration
	Curation mirror.Curation
	Limits   mirror.Limits
	// Policies has the type of publish.policies, so that the publish verifier is built from it.
	Policies []struct {
		Namespace string `json:"namespace"`
		Policy    string `json:"policy"`
	}
}

// upstreams checks the section; errors name the setting.
func (c mirrorConfig) upstreams() ([]mirrorUpstream, error) {
	var out []mirrorUpstream
	seen := map[string]bool{}
	for i, u := range c.Upstreams {
		where := fmt.Sprintf("mirror.upstreams[%d]", i)
		url, err := mirror.ParseUpstream(u.URL)
		if err != nil {
			return nil, fmt.Errorf("%s.url: %w", where, err)
		}
		if seen[url] {
			return nil, fmt.Errorf("%s.url: %s is configured twice", where, url)
		}
		seen[url] = true
		mu := mirrorUpstream{URL: url, Curation: mirror.Curation{Include: u.Include, Exclude: u.Exclude, PackageTypes: u.PackageTypes, LatestOnly: u.LatestOnly}}
		if err := mu.Curation.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if u.Interval != "" {
			if mu.Interval, err = time.ParseDuration(u.Interval); err != nil || mu.Interval < 0 {
				return nil, fmt.Errorf("%s.interval %q: want a duration such as 6h (0 disables)", where, u.Interval)
			}
		}
		if len(u.Policies) == 0 {
			return nil, fmt.Errorf("%s.policies: none; every candidate would be rejected (name an attest policy per namespace pattern)", where)
		}
		for j, p := range u.Policies {
			if p.Namespace == "" || p.Policy == "" {
				return nil, fmt.Errorf("%s.policies[%d]: namespace and policy are required", where, j)
			}
		}
		mu.Policies = u.Policies
		l := u.Limits
		mu.Limits = mirror.Limits{PageSize: l.PageSize, MaxPages: l.MaxPages, MaxEntries: l.MaxEntries, MaxPageBytes: l.MaxPageBytes}
		for name, s := range map[string]string{"request_timeout": l.RequestTimeout, "max_duration": l.MaxDuration} {
			if s == "" {
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%s.limits.%s %q: want a positive duration such as 30s", where, name, s)
			}
			if name == "request_timeout" {
				mu.Limits.RequestTimeout = d
			} else {
				mu.Limits.MaxDuration = d
			}
		}
		if l.PageSize < 0 || l.PageSize > 100 || l.MaxPages < 0 || l.MaxEntries < 0 || l.MaxPageBytes < 0 {
			return nil, fmt.Errorf("%s.limits: negative, or page_size above 100 (the v0.1 API's maximum)", where)
		}
		out = append(out, mu)
	}
	return out, nil
}
