package registry

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// barrierVerifier holds every verification until n have started, so that n publishes check
// their namespaces before any of them commits.
type barrierVerifier struct {
	wg   *sync.WaitGroup
	next Verifier
}

func (b barrierVerifier) VerifyPackage(ctx context.Context, r VerifyRequest) (*VerifiedPackage, error) {
	b.wg.Done()
	b.wg.Wait()
	return b.next.VerifyPackage(ctx, r)
}

// Two concurrent publishes of new look-alike namespaces: the first recorded is published,
// the other is checked again against it and waits for review.
func TestConcurrentLookAlikeNamespaces(t *testing.T) {
	st := newMemStore()
	var wg sync.WaitGroup
	wg.Add(2)
	v := barrierVerifier{wg: &wg, next: fakeVerifier{byRef: map[string]func() (*VerifiedPackage, error){"ghcr.io/acme/weather:1": goodPackage(toolsV1)}}}
	p, err := NewPipeline(st, v, fakeScanner{outcome: Pass}, fakeTools{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"io.github.acme/weather", "io.github.acne/weather"}
	results := make([]PublishResult, 2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i, n := range names {
		done.Add(1)
		go func() {
			defer done.Done()
			body := strings.Replace(string(server("1.0.0", "ghcr.io/acme/weather:1")), "io.github.acme/weather", n, 1)
			results[i], errs[i] = p.Publish(context.Background(), PublishRequest{ServerJSON: []byte(body), Actor: "iss|ci", Authorizer: AuthorizerFunc(allow)})
		}()
	}
	done.Wait()
	published, review := 0, 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("publish %s: %v", names[i], errs[i])
		}
		switch r.Decision {
		case DecisionPublished:
			published++
		case DecisionPendingReview:
			review++
			c := findCheck(r.Checks, CheckNamespace)
			if c == nil || c.Outcome != Review || !strings.Contains(c.Reason, "resembles existing namespace") {
				t.Fatalf("%s waits for review, but not for its namespace: %v", names[i], r.Checks)
			}
			if n := strings.Count(strings.Join(checkNames(r.Checks), " "), CheckNamespace); n != 1 {
				t.Fatalf("%d namespace checks after the recheck: %v", n, r.Checks)
			}
		}
	}
	if published != 1 || review != 1 {
		t.Fatalf("%d published, %d pending review; want 1 and 1: %+v", published, review, results)
	}
	if len(st.audit) != 2 {
		t.Fatalf("%d audit events, want 2", len(st.audit))
	}
}

func checkNames(cs []Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
