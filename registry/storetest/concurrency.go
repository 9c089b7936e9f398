package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vetted-dev/vetted/registry"
)

const racers = 16

// race runs fn(i) for i in [0, racers) at the same moment.
func race(fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func testConcurrentSameVersion(t *testing.T, s registry.Store) {
	RaceSameVersion(t, func(int) registry.Store { return s })
}

// RaceSameVersion has racers goroutines create the same version at once, goroutine i
// through storeFor(i) (stores that share one database, standing in for several processes),
// and checks that exactly one reports created=true and one row is stored.
func RaceSameVersion(t *testing.T, storeFor func(i int) registry.Store) {
	v := ver("io.github.acme/race", "1.0.0", registry.StatusPublished, 0)
	var (
		mu      sync.Mutex
		created int
		errs    []error
	)
	race(func(i int) {
		got, c, err := storeFor(i).CreateVersion(context.Background(), v)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		if c {
			created++
		}
		if got.ContentDigest != registry.ContentDigest(v.ServerJSON) || !got.IsLatest {
			errs = append(errs, fmt.Errorf("racer %d got digest %s IsLatest=%v", i, got.ContentDigest, got.IsLatest))
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent identical creates failed: %v", err)
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent identical creates reported created=true, want exactly 1", created, racers)
	}
	vs, err := storeFor(0).ListServerVersions(context.Background(), v.Name)
	if err != nil {
		t.Fatalf("ListServerVersions: %v", err)
	}
	sameKeys(t, "stored after the race", vs, v.Name+"@"+v.Version)
}

func testConcurrentConflicting(t *testing.T, s registry.Store) {
	name := "io.github.acme/race"
	var (
		mu                 sync.Mutex
		created, conflicts int
		winner             string
		errs               []error
	)
	race(func(i int) {
		v := ver(name, "1.0.0", registry.StatusPublished, 0)
		v.ServerJSON = []byte(fmt.Sprintf(`{"name":%q,"version":"1.0.0","racer":%d}`, name, i))
		got, c, err := s.CreateVersion(context.Background(), v)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, registry.ErrConflict):
			conflicts++
		case err != nil:
			errs = append(errs, err)
		case c:
			created++
			winner = got.ContentDigest
		default:
			errs = append(errs, fmt.Errorf("racer %d: created=false without a conflict for different content", i))
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent conflicting creates: %v", err)
	}
	if created != 1 || conflicts != racers-1 {
		t.Fatalf("created=%d conflicts=%d, want 1 and %d", created, conflicts, racers-1)
	}
	stored, err := s.GetVersion(context.Background(), registry.Key{Name: name, Version: "1.0.0"})
	if err != nil || stored.ContentDigest != winner {
		t.Fatalf("stored = %s (err %v), want the winner's content %s", stored.ContentDigest, err, winner)
	}
}

func testConcurrentLatest(t *testing.T, s registry.Store) {
	RaceLatest(t, func(int) registry.Store { return s })
}

// RaceLatest has racers goroutines publish different versions of one server at once,
// through storeFor(i), and checks that exactly one version, the highest, is latest.
func RaceLatest(t *testing.T, storeFor func(i int) registry.Store) {
	name := "io.github.acme/latest-race"
	var (
		mu   sync.Mutex
		errs []error
	)
	race(func(i int) {
		// Publish times run against the semver order, so that a store picking the last
		// writer or the newest publish gets it wrong.
		_, _, err := storeFor(i).CreateVersion(context.Background(), ver(name, fmt.Sprintf("1.%d.0", i), registry.StatusPublished, racers-i))
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent publishes: %v", err)
	}
	vs, err := storeFor(0).ListServerVersions(context.Background(), name)
	if err != nil {
		t.Fatalf("ListServerVersions: %v", err)
	}
	if len(vs) != racers {
		t.Fatalf("%d versions stored, want %d", len(vs), racers)
	}
	var flagged []string
	for _, v := range vs {
		if v.IsLatest {
			flagged = append(flagged, v.Version)
		}
	}
	want := fmt.Sprintf("1.%d.0", racers-1)
	if len(flagged) != 1 || flagged[0] != want {
		t.Fatalf("IsLatest set on %v, want exactly [%s]", flagged, want)
	}
}

// RaceTwoStores runs the races over two stores on one database (two processes): racing on
// one version they store one row; racing on different versions they agree on one latest.
func RaceTwoStores(t *testing.T, a, b registry.Store) {
	pick := func(i int) registry.Store {
		if i%2 == 0 {
			return a
		}
		return b
	}
	RaceSameVersion(t, pick)
	RaceLatest(t, pick)
}
