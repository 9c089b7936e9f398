package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vetted-dev/vetted/attest/sigtest"
)

// pager serves the referrers API in pages: serve gets the page asked for (1 for the first
// request, else the "page" query parameter), the full listing of the real registry and the
// request, and returns that page's manifests and its Link header ("" for none).
type pager func(page int, full []descriptor, r *http.Request) ([]descriptor, string)

// Until on is set (after the test has pushed its content), the registry behaves.
func pagedRegistry(t *testing.T, serve pager, on *atomic.Bool, requests *atomic.Int32) *sigtest.Registry {
	t.Helper()
	return sigtest.NewRegistry(t, true, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !on.Load() || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/referrers/") {
				h.ServeHTTP(w, r)
				return
			}
			requests.Add(1)
			inner := r.Clone(r.Context())
			inner.URL.RawQuery = ""
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, inner)
			var idx manifest
			if err := json.Unmarshal(rec.Body.Bytes(), &idx); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			// The registry lists referrers in map order: sort them so that pages are stable.
			slices.SortFunc(idx.Manifests, func(a, b descriptor) int { return strings.Compare(a.Digest, b.Digest) })
			page := 1
			if p := r.URL.Query().Get("page"); p != "" {
				_, _ = fmt.Sscan(p, &page)
			}
			ms, link := serve(page, idx.Manifests, r)
			if ms == nil {
				ms = []descriptor{}
			}
			body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": indexMediaType, "manifests": ms})
			w.Header().Set("Content-Type", indexMediaType)
			if link != "" {
				w.Header().Set("Link", link)
			}
			_, _ = w.Write(body)
		})
	})
}

// onePerPage puts the k-th referrer on page k, linking with a relative reference.
func onePerPage(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
	if page < 1 || page > len(full) {
		return nil, ""
	}
	link := ""
	if page < len(full) {
		link = fmt.Sprintf(`<%s?page=%d>; rel="prev", <%s?page=%d>; rel="next"; title="more, later"`, r.URL.Path, page-1, r.URL.Path, page+1)
	}
	return full[page-1 : page], link
}

func TestDiscoverReferrerPages(t *testing.T) {
	elsewhere := &atomic.Int32{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.NotFound(w, r)
	}))
	defer other.Close()

	cases := []struct {
		name      string
		serve     pager
		bundles   int
		limits    Limits
		want      int    // candidates found
		requests  int32  // referrers API requests
		reason    string // expected error text; "" = success
		wantLimit *LimitError
	}{
		{
			name: "bundle on page 2 of 3",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				switch page {
				case 1: // absolute path, relative to the host
					return nil, fmt.Sprintf(`<%s?page=2>; rel="next"`, r.URL.Path)
				case 2: // absolute URL on the same registry
					return full, fmt.Sprintf(`<http://%s%s?page=3>; rel=next`, r.Host, r.URL.Path)
				}
				return nil, ""
			},
			bundles: 1, want: 1, requests: 3,
		},
		{
			name: "one bundle per page", serve: onePerPage,
			bundles: 3, want: 3, requests: 3,
		},
		{
			name: "the candidate cap counts across pages", serve: onePerPage,
			bundles: 3, limits: Limits{MaxCandidates: 2}, requests: 3,
			reason:    "3 referrers, limit 2",
			wantLimit: &LimitError{Limit: 2, Got: 3, Unit: "referrers"},
		},
		{
			name: "a Link to another host is refused",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				return nil, fmt.Sprintf(`<%s%s?page=2>; rel="next"`, other.URL, r.URL.Path)
			},
			bundles: 1, requests: 1,
			reason: "leaves the registry",
		},
		{
			name: "a Link to another scheme is refused",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				return nil, fmt.Sprintf(`<https://%s%s?page=2>; rel="next"`, r.Host, r.URL.Path)
			},
			bundles: 1, requests: 1,
			reason: "leaves the registry",
		},
		{
			name: "a malformed Link header fails closed",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				return nil, fmt.Sprintf(`%s?page=2; rel="next"`, r.URL.Path)
			},
			bundles: 1, requests: 1,
			reason: "malformed Link header",
		},
		{
			name: "an endless chain of pages hits MaxReferrerPages",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				return nil, fmt.Sprintf(`<?page=%d>; rel="next"`, page+1)
			},
			bundles: 1, requests: int32(DefaultLimits.MaxReferrerPages),
			reason:    fmt.Sprintf("more than %d pages", DefaultLimits.MaxReferrerPages),
			wantLimit: &LimitError{Limit: int64(DefaultLimits.MaxReferrerPages), Got: -1, Unit: "pages"},
		},
		{
			name: "a lower MaxReferrerPages",
			serve: func(page int, full []descriptor, r *http.Request) ([]descriptor, string) {
				return nil, fmt.Sprintf(`<?page=%d>; rel="next"`, page+1)
			},
			bundles: 1, limits: Limits{MaxReferrerPages: 3}, requests: 3,
			reason:    "more than 3 pages",
			wantLimit: &LimitError{Limit: 3, Got: -1, Unit: "pages"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			elsewhere.Store(0)
			var (
				on       atomic.Bool
				requests atomic.Int32
			)
			reg := pagedRegistry(t, tc.serve, &on, &requests)
			d := reg.PushImage(t, "acme/weather", "v1")
			for i := 0; i < tc.bundles; i++ {
				reg.AttachBundle(t, "acme/weather", d, []byte(fmt.Sprintf(`{"bundle":%d}`, i)), nil)
			}
			on.Store(true)
			c := New(Options{Limits: tc.limits})
			ctx := context.Background()
			img, err := c.Resolve(ctx, reg.Ref("acme/weather", d))
			if err != nil {
				t.Fatal(err)
			}
			disc, err := c.Discover(ctx, img)
			if got := requests.Load(); got != tc.requests {
				t.Errorf("referrers requests = %d, want %d", got, tc.requests)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("another host was asked %d times", n)
			}
			if tc.reason != "" {
				if err == nil || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("err = %v, want %q", err, tc.reason)
				}
				if tc.wantLimit != nil {
					var le *LimitError
					if !errors.As(err, &le) || le.Limit != tc.wantLimit.Limit || le.Got != tc.wantLimit.Got || le.Unit != tc.wantLimit.Unit {
						t.Errorf("err = %#v, want a LimitError like %+v", err, tc.wantLimit)
					}
				} else if !errors.Is(err, ErrRegistry) {
					t.Errorf("err = %v, want ErrRegistry", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !disc.ReferrersAPI || len(disc.Candidates) != tc.want {
				t.Fatalf("api=%v candidates=%d, want %d (skipped %+v)", disc.ReferrersAPI, len(disc.Candidates), tc.want, disc.Skipped)
			}
			for _, cand := range disc.Candidates {
				if cand.Source != SourceReferrer || !strings.HasPrefix(string(cand.Data), `{"bundle":`) {
					t.Errorf("candidate %+v", cand)
				}
			}
		})
	}
}

func TestNextLink(t *testing.T) {
	cases := []struct {
		values []string
		want   string
		reason string
	}{
		{nil, "", ""},
		{[]string{`</v2/a/referrers/x?n=1&last=b>; rel="next"`}, "/v2/a/referrers/x?n=1&last=b", ""},
		{[]string{`<a>; rel=next`}, "a", ""},
		{[]string{`<a>; REL="Next"`}, "a", ""},
		{[]string{`<p>; rel="prev", <n>; rel="next"`}, "n", ""},
		{[]string{`<p>; rel="prev"`, `<n>; rel="last next"`}, "n", ""},
		{[]string{`<x?a=1,2>; title="a, b; rel=next"; rel="next"`}, "x?a=1,2", ""},
		{[]string{`<p>; rel="prev"`}, "", ""},
		{[]string{`<p>; rel="nextpage"`}, "", ""},
		{[]string{`/v2/a; rel="next"`}, "", "malformed Link header"},
		{[]string{`<a; rel="next"`}, "", "malformed Link header"},
		{[]string{`<a> rel="next"`}, "", "malformed Link header"},
	}
	for _, c := range cases {
		got, err := nextLink(c.values)
		if c.reason != "" {
			if err == nil || !strings.Contains(err.Error(), c.reason) || !errors.Is(err, ErrRegistry) {
				t.Errorf("%q: err = %v, want %q", c.values, err, c.reason)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.values, got, err, c.want)
		}
	}
}

func TestResolveNext(t *testing.T) {
	cur, _ := url.Parse("https://reg.example:5000/v2/acme/w/referrers/sha256:ab?page=1")
	cases := []struct {
		target, want, reason string
	}{
		{"?page=2", "https://reg.example:5000/v2/acme/w/referrers/sha256:ab?page=2", ""},
		{"/v2/acme/w/referrers/sha256:ab?last=x", "https://reg.example:5000/v2/acme/w/referrers/sha256:ab?last=x", ""},
		{"https://REG.example:5000/v2/x#frag", "https://REG.example:5000/v2/x", ""},
		{"https://reg.example/v2/x", "", "leaves the registry"},
		{"http://reg.example:5000/v2/x", "", "leaves the registry"},
		{"//evil.example/v2/x", "", "leaves the registry"},
		{"https://user:pw@reg.example:5000/v2/x", "", "leaves the registry"},
		{"https://evil.example/v2/x", "", "leaves the registry"},
		{"%zz", "", "target"},
	}
	for _, c := range cases {
		got, err := resolveNext(cur, c.target)
		if c.reason != "" {
			if err == nil || !strings.Contains(err.Error(), c.reason) || !errors.Is(err, ErrRegistry) {
				t.Errorf("%q: err = %v, want %q", c.target, err, c.reason)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%q = %v, %v; want %s", c.target, got, err, c.want)
		}
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`</v2/a/referrers/x?n=1>; rel="next"`)
	f.Add(`<p>; rel="prev", <n>; rel="next"; title="a, \"b\""`)
	f.Add(`<a; rel="next"`)
	cur, _ := url.Parse("http://127.0.0.1:5000/v2/a/referrers/sha256:ab")
	f.Fuzz(func(t *testing.T, v string) {
		target, err := nextLink([]string{v})
		if err != nil || target == "" {
			return
		}
		next, err := resolveNext(cur, target)
		if err != nil {
			return
		}
		if next.Scheme != cur.Scheme || !strings.EqualFold(next.Host, cur.Host) || next.User != nil {
			t.Fatalf("%q resolved to %s, off the registry", v, next)
		}
	})
}
