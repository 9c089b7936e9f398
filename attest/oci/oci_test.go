package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type recorder struct{ hosts []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Scheme+"://"+req.URL.Host)
	return nil, errors.New("recorded")
}

func TestSchemeGuard(t *testing.T) {
	rec := &recorder{}
	g := &schemeGuard{next: rec, insecure: map[string]bool{"registry.internal:5000": true}}
	cases := []struct {
		url     string
		allowed bool
	}{
		{"https://ghcr.io/v2/", true},
		{"http://127.0.0.1:5000/v2/", true},
		{"http://[::1]:5000/v2/", true},
		{"http://localhost:5000/v2/", true},
		{"http://registry.internal:5000/v2/", true},
		{"http://registry.internal:5001/v2/", false},
		{"http://ghcr.io/v2/", false},
		{"http://10.0.0.1/v2/", false},
		{"http://foo.local/v2/", false},
		{"ftp://127.0.0.1/", false},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, c.url, nil)
		_, err := g.RoundTrip(req)
		refused := err != nil && strings.Contains(err.Error(), "plain HTTP is allowed only")
		if refused == c.allowed {
			t.Errorf("%s: allowed=%v, err=%v", c.url, !refused, err)
		}
	}
}

func push(t *testing.T, host, repo string) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host+"/"+repo+":v1", name.Insecure)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

func TestResolve(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	d := push(t, host, "acme/weather")
	c := New(Options{})
	img, err := c.Resolve(context.Background(), host+"/acme/weather:v1")
	if err != nil || img.Digest != d || img.Repository != host+"/acme/weather" {
		t.Fatalf("%v %+v", err, img)
	}
	if img, err := c.Resolve(context.Background(), host+"/acme/weather@"+d); err != nil || img.Digest != d {
		t.Fatalf("by digest: %v %+v", err, img)
	}
	if _, err := c.Resolve(context.Background(), host+"/acme/weather:missing"); err == nil {
		t.Fatal("missing tag resolved")
	}
}

// TestResolveLyingRegistry: a registry whose content does not hash to the digest asked for,
// or to the digest it announces, is refused.
func TestResolveLyingRegistry(t *testing.T) {
	var swap atomic.Bool
	inner := registry.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if swap.Load() && strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
			_, _ = w.Write([]byte(`{"schemaVersion":2}`))
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	d := push(t, host, "acme/weather")
	swap.Store(true)
	c := New(Options{})
	for _, ref := range []string{host + "/acme/weather@" + d, host + "/acme/weather:v1"} {
		_, err := c.Resolve(context.Background(), ref)
		if !errors.Is(err, ErrRegistry) || !strings.Contains(err.Error(), "hashes to") {
			t.Errorf("%s: %v", ref, err)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := Limits{MaxCandidates: 3}.withDefaults()
	if l.MaxCandidates != 3 || l.MaxBlobBytes != DefaultLimits.MaxBlobBytes || l.Timeout != DefaultLimits.Timeout {
		t.Errorf("%+v", l)
	}
	e := &LimitError{What: "blob x", Limit: 10, Got: -1, Unit: "bytes"}
	if !errors.Is(e, ErrLimit) || e.Error() != "blob x: more than 10 bytes" {
		t.Error(e)
	}
}
