package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// claimStore holds job claims with the semantics of JobStore (as registry/storetest checks
// them on both databases): a claim is granted if the job is unclaimed, expired or held by
// the same holder, and last completed before notBefore.
type claimStore struct {
	mu     sync.Mutex
	holder map[string]string
	until  map[string]time.Time
	done   map[string]time.Time
	claims atomic.Int64
}

func newClaimStore() *claimStore {
	return &claimStore{holder: map[string]string{}, until: map[string]time.Time{}, done: map[string]time.Time{}}
}

func (s *claimStore) ClaimJob(_ context.Context, job, holder string, now time.Time, ttl time.Duration, notBefore time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.holder[job]; h != "" && h != holder && now.Before(s.until[job]) {
		return false, nil
	}
	if d, ok := s.done[job]; ok && !notBefore.IsZero() && !d.Before(notBefore) {
		return false, nil
	}
	s.holder[job], s.until[job] = holder, now.Add(ttl)
	s.claims.Add(1)
	return true, nil
}

func (s *claimStore) CompleteJob(_ context.Context, job, holder string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holder[job] != holder {
		return fmt.Errorf("%s does not hold %s", holder, job)
	}
	s.holder[job], s.done[job] = "", now
	return nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Of several replicas scheduling the same job on one store, exactly one runs it per period;
// every replica runs its AfterTick.
func TestJobsRunOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	st := newClaimStore()
	clock := &fakeClock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	var runs, ticks atomic.Int64
	release := make(chan struct{})
	var replicas []*Jobs
	for i := range 4 {
		j := NewJobs(st, WithJobsHolder(fmt.Sprintf("replica-%d", i)), WithJobsClock(clock.now))
		if err := j.Register(Job{Name: "sweep", Every: time.Hour, Run: func(context.Context) (any, error) {
			runs.Add(1)
			<-release // still running while the other replicas look
			return nil, nil
		}, AfterTick: func(context.Context) { ticks.Add(1) }}); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, j)
	}
	var wg sync.WaitGroup
	ran := make([][]string, len(replicas))
	for i, j := range replicas {
		wg.Go(func() { ran[i] = j.RunDue(ctx) })
	}
	// Let every replica claim or give up before the runner finishes.
	for st.claims.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	total := 0
	for _, r := range ran {
		total += len(r)
	}
	if runs.Load() != 1 || total != 1 || ticks.Load() != 4 {
		t.Fatalf("runs %d, replicas reporting a run %d (%v), after-ticks %d; want 1, 1, 4", runs.Load(), total, ran, ticks.Load())
	}
	// Not due again within the period, on any replica.
	clock.add(59 * time.Minute)
	for _, j := range replicas {
		if r := j.RunDue(ctx); len(r) != 0 {
			t.Fatalf("ran %v before the period ended", r)
		}
	}
	// Due after it.
	clock.add(2 * time.Minute)
	if r := replicas[3].RunDue(ctx); len(r) != 1 || runs.Load() != 2 {
		t.Fatalf("after the period: ran %v, runs %d", r, runs.Load())
	}
}

// RunNow runs a job whenever it last ran, but not while another replica holds it; unknown
// names are ErrNotFound; a failing run still releases the claim.
func TestJobsRunNow(t *testing.T) {
	ctx := context.Background()
	st := newClaimStore()
	clock := &fakeClock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	a := NewJobs(st, WithJobsHolder("a"), WithJobsClock(clock.now))
	b := NewJobs(st, WithJobsHolder("b"), WithJobsClock(clock.now))
	boom := errors.New("boom")
	for _, j := range []*Jobs{a, b} {
		if err := j.Register(Job{Name: "mirror", Run: func(context.Context) (any, error) { return "result", nil }}); err != nil {
			t.Fatal(err)
		}
		if err := j.Register(Job{Name: "failing", Run: func(context.Context) (any, error) { return nil, boom }}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := a.RunNow(ctx, "mirror"); err != nil || res != "result" {
		t.Fatalf("RunNow = %v, %v", res, err)
	}
	if res, err := a.RunNow(ctx, "mirror"); err != nil || res != "result" {
		t.Fatalf("RunNow right after a run (on demand ignores the period) = %v, %v", res, err)
	}
	// b holds the job: a is refused with a conflict naming the job.
	if ok, _ := st.ClaimJob(ctx, "mirror", "b", clock.now(), time.Minute, time.Time{}); !ok {
		t.Fatal("b could not claim")
	}
	if _, err := a.RunNow(ctx, "mirror"); !errors.Is(err, ErrConflict) {
		t.Fatalf("RunNow while another replica holds it: %v, want ErrConflict", err)
	}
	// The lease ends: a may run it.
	clock.add(2 * time.Minute)
	if _, err := a.RunNow(ctx, "mirror"); err != nil {
		t.Fatalf("RunNow after the other's lease ended: %v", err)
	}
	if _, err := a.RunNow(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown job: %v, want ErrNotFound", err)
	}
	if _, err := a.RunNow(ctx, "failing"); !errors.Is(err, boom) {
		t.Fatalf("failing job: %v", err)
	}
	if _, err := b.RunNow(ctx, "failing"); !errors.Is(err, boom) {
		t.Fatalf("the failed run kept its claim: b got %v, want the job's own error", err)
	}
	// On-demand jobs are never run by the scheduler.
	if r := a.RunDue(ctx); len(r) != 0 {
		t.Fatalf("RunDue ran on-demand jobs %v", r)
	}
}

func TestJobsRegister(t *testing.T) {
	j := NewJobs(newClaimStore())
	run := func(context.Context) (any, error) { return nil, nil }
	if err := j.Register(Job{Name: "x", Every: time.Minute, Run: run}); err != nil {
		t.Fatal(err)
	}
	if err := j.Register(Job{Name: "x", Run: run}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	if err := j.Register(Job{Name: "y"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no Run: %v, want ErrInvalid", err)
	}
	if err := j.Register(Job{Run: run}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no name: %v, want ErrInvalid", err)
	}
	if err := j.Register(Job{Name: "z", Every: -time.Second, Run: run}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative period: %v, want ErrInvalid", err)
	}
	if err := j.Register(Job{Name: "a", Every: 10 * time.Second, Run: run}); err != nil {
		t.Fatal(err)
	}
	if got := j.Names(); len(got) != 2 || got[0] != "a" || got[1] != "x" {
		t.Fatalf("Names = %v", got)
	}
	if p := j.period(); p != 10*time.Second {
		t.Fatalf("tick = %s, want the shortest period", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j.Start(ctx); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Start: %v", err)
	}
}

// configStore is an audit chain in memory.
type configStore struct{ events []AuditEvent }

func (s *configStore) AuditEvents(_ context.Context, after int64, limit int) ([]AuditEvent, error) {
	var out []AuditEvent
	for _, e := range s.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *configStore) AppendAudit(_ context.Context, e AuditEvent) (AuditEvent, error) {
	e.Seq = int64(len(s.events) + 1)
	s.events = append(s.events, e)
	return e, nil
}

// A configuration is recorded when it changes, per component, and not again at a restart
// with the same one.
func TestAuditConfig(t *testing.T) {
	ctx := context.Background()
	st := &configStore{}
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	step := func(component string, cfg any, want bool) {
		t.Helper()
		got, err := AuditConfig(ctx, st, component, cfg, at)
		if err != nil || got != want {
			t.Fatalf("AuditConfig(%s, %v) = %v, %v; want %v", component, cfg, got, err, want)
		}
	}
	step("publish", map[string]any{"scan": "high"}, true)
	step("publish", map[string]any{"scan": "high"}, false)
	step("mirror", map[string]any{"scan": "high"}, true)
	step("publish", map[string]any{"scan": "critical"}, true)
	step("publish", map[string]any{"scan": "high"}, true) // back to an older one: a change
	if len(st.events) != 4 || st.events[0].Type != AuditConfigChange || st.events[1].Subject != "mirror" {
		t.Fatalf("events: %+v", st.events)
	}
}
