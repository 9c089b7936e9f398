package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverWith returns a server.json listing n OCI packages ghcr.io/acme/weather:0 … :n-1.
func serverWith(n int) []byte {
	var pkgs []string
	for i := 0; i < n; i++ {
		pkgs = append(pkgs, fmt.Sprintf(`{"registryType":"oci","identifier":"ghcr.io/acme/weather:%d","transport":{"type":"stdio"}}`, i))
	}
	return []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0","packages":[` + strings.Join(pkgs, ",") + `]}`)
}

// More than MaxPackages packages is refused before anything is fetched, naming the field
// (issue 17 item 9: 400 packages took 8.8 s to verify).
func TestPublishTooManyPackages(t *testing.T) {
	f := newFixture(t, Pass)
	_, err := f.publish(t, serverWith(MaxPackages+1))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "packages" || !strings.Contains(fe.Reason, "at most 16") {
		t.Fatalf("17 packages: want a FieldError on packages, got %v", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("not ErrInvalid: %v", err)
	}
	if _, err := ParseServerJSON(serverWith(MaxPackages)); err != nil {
		t.Fatalf("16 packages: %v", err)
	}
}

// countingVerifier holds each call until `want` calls are in flight (or a deadline), and
// records the most seen at once.
type countingVerifier struct {
	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
	max      int
	want     int
	order    []string
}

func (c *countingVerifier) VerifyPackage(_ context.Context, r VerifyRequest) (*VerifiedPackage, error) {
	c.mu.Lock()
	c.inFlight++
	c.max = max(c.max, c.inFlight)
	c.cond.Broadcast()
	deadline := time.Now().Add(5 * time.Second)
	for c.inFlight < c.want && time.Now().Before(deadline) {
		go func() { time.Sleep(10 * time.Millisecond); c.cond.Broadcast() }()
		c.cond.Wait()
	}
	c.want = 0 // once the bound was reached, let everything through
	c.inFlight--
	c.order = append(c.order, r.Reference)
	c.mu.Unlock()
	n := strings.TrimPrefix(r.Reference, "ghcr.io/acme/weather:")
	if n == "3" {
		return nil, fmt.Errorf("resolve %s: MANIFEST_UNKNOWN", r.Reference)
	}
	vp, _ := goodPackage(toolsV1)()
	vp.Digest, vp.Pinned = Digest([]byte(n)), "ghcr.io/acme/weather@"+Digest([]byte(n))
	return vp, nil
}

// The packages of a version are verified concurrently, never more than
// MaxConcurrentVerifications at once, and the checks come out in package order.
func TestPublishVerifiesPackagesConcurrently(t *testing.T) {
	cv := &countingVerifier{want: MaxConcurrentVerifications}
	cv.cond = sync.NewCond(&cv.mu)
	st := newMemStore()
	p, err := NewPipeline(st, cv, fakeScanner{outcome: Pass}, fakeTools{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Publish(context.Background(), PublishRequest{ServerJSON: serverWith(MaxPackages), Actor: "iss|ci", Authorizer: AuthorizerFunc(allow)})
	if err != nil {
		t.Fatal(err)
	}
	if cv.max != MaxConcurrentVerifications {
		t.Fatalf("at most %d verifications were in flight, want exactly the bound %d", cv.max, MaxConcurrentVerifications)
	}
	if len(cv.order) != MaxPackages {
		t.Fatalf("%d packages verified, want %d", len(cv.order), MaxPackages)
	}
	// Checks in package order, whatever order the verifications finished in.
	last := -1
	for _, c := range res.Checks {
		if c.Name != CheckResolve && c.Name != CheckVerify {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(c.Package, "packages[%d]", &i); err != nil {
			t.Fatalf("check %+v: unexpected package label", c)
		}
		if i <= last {
			t.Fatalf("checks out of package order: %d after %d", i, last)
		}
		last = i
		if i == 3 && (c.Outcome != Fail || !strings.Contains(c.Reason, "MANIFEST_UNKNOWN")) {
			t.Fatalf("package 3's failure is not its own: %+v", c)
		}
	}
	if last != MaxPackages-1 || res.Decision != DecisionRejected {
		b, _ := json.Marshal(res.Checks)
		t.Fatalf("last package %d, decision %s: %s", last, res.Decision, b)
	}
}
