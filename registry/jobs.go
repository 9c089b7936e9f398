package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"
)

// Background work that must run once across replicas (the OSV sync and re-scan, mirroring,
// expiry sweeps) is a named Job registered with Jobs. Jobs owns the schedule and the claim:
// each run is claimed through the database (JobStore.ClaimJob), so of several replicas on one
// store exactly one runs a due job, and a replica that dies mid-run releases it when its
// lease ends.

// JobStore is what the scheduler needs from storage (a subset of LifecycleStore).
type JobStore interface {
	ClaimJob(ctx context.Context, job, holder string, now time.Time, ttl time.Duration, notBefore time.Time) (bool, error)
	CompleteJob(ctx context.Context, job, holder string, now time.Time) error
}

// Job is one named periodic job.
type Job struct {
	// Name identifies the job across replicas (the claim's key); unique within a Jobs.
	Name string
	// Every is the period between the end of one run and the start of the next; 0 runs the
	// job only when asked (RunNow).
	Every time.Duration
	// Lease bounds how long a claim holds when its holder disappears (default 30 minutes).
	Lease time.Duration
	// Run does the work; its result is what RunNow returns (for an admin's answer).
	Run func(ctx context.Context) (any, error)
	// AfterTick, when set, runs on every replica after each scheduler tick, whether or not
	// this replica ran the job (e.g. reload a snapshot another replica wrote to shared
	// storage).
	AfterTick func(ctx context.Context)
}

// DefaultJobLease is a Job's default Lease.
const DefaultJobLease = 30 * time.Minute

// Jobs schedules named jobs and claims each run through the store.
type Jobs struct {
	store  JobStore
	holder string
	clock  func() time.Time
	log    *slog.Logger
	tick   time.Duration

	mu      sync.Mutex
	jobs    map[string]*jobEntry
	started bool
}

type jobEntry struct {
	Job
	running sync.Mutex // one run at a time in this process
}

// JobsOption configures Jobs.
type JobsOption func(*Jobs)

// WithJobsHolder sets the name this replica claims jobs under (default host/pid/random).
func WithJobsHolder(h string) JobsOption { return func(j *Jobs) { j.holder = h } }

// WithJobsClock sets the clock (tests).
func WithJobsClock(c func() time.Time) JobsOption { return func(j *Jobs) { j.clock = c } }

// WithJobsLogger sets the logger.
func WithJobsLogger(l *slog.Logger) JobsOption { return func(j *Jobs) { j.log = l } }

// WithJobsTick sets how often the scheduler looks for due jobs (default: the shortest
// period, at most a minute).
func WithJobsTick(d time.Duration) JobsOption { return func(j *Jobs) { j.tick = d } }

// NewJobs returns a scheduler with no jobs.
func NewJobs(store JobStore, opts ...JobsOption) *Jobs {
	j := &Jobs{store: store, clock: time.Now, jobs: map[string]*jobEntry{}}
	for _, o := range opts {
		o(j)
	}
	if j.holder == "" {
		j.holder = HolderID()
	}
	if j.log == nil {
		j.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return j
}

// HolderID names this process among replicas: host, pid and a random suffix.
func HolderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Holder returns the name this replica claims jobs under.
func (j *Jobs) Holder() string { return j.holder }

// Register adds a job. Names are unique; a job needs a Run. Jobs registered after Start
// are scheduled from the next tick.
func (j *Jobs) Register(job Job) error {
	if job.Name == "" || job.Run == nil {
		return fmt.Errorf("register job %q: a name and a Run are required: %w", job.Name, ErrInvalid)
	}
	if job.Every < 0 {
		return fmt.Errorf("register job %q: negative period %s: %w", job.Name, job.Every, ErrInvalid)
	}
	if job.Lease <= 0 {
		job.Lease = DefaultJobLease
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, dup := j.jobs[job.Name]; dup {
		return fmt.Errorf("register job %q: already registered: %w", job.Name, ErrConflict)
	}
	j.jobs[job.Name] = &jobEntry{Job: job}
	return nil
}

// Names returns the registered jobs' names, sorted.
func (j *Jobs) Names() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	names := make([]string, 0, len(j.jobs))
	for n := range j.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (j *Jobs) entries() []*jobEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	es := make([]*jobEntry, 0, len(j.jobs))
	for _, e := range j.jobs {
		es = append(es, e)
	}
	sort.Slice(es, func(a, b int) bool { return es[a].Name < es[b].Name })
	return es
}

// RunDue runs, one after another, every periodic job whose last run (on any replica) ended
// at least its period ago and that this replica could claim, then every job's AfterTick. It
// returns the names of the jobs this replica ran; a failing job is logged and does not stop
// the others.
func (j *Jobs) RunDue(ctx context.Context) []string {
	var ran []string
	for _, e := range j.entries() {
		if e.Every <= 0 || ctx.Err() != nil {
			continue
		}
		now := j.clock()
		ok, err := j.store.ClaimJob(ctx, e.Name, j.holder, now, e.Lease, now.Add(-e.Every))
		if err != nil {
			j.log.Warn("job claim failed", slog.String("job", e.Name), slog.String("error", err.Error()))
			continue
		}
		if !ok {
			continue
		}
		ran = append(ran, e.Name)
		if _, err := j.claimed(ctx, e); err != nil && ctx.Err() == nil {
			j.log.Warn("scheduled job failed", slog.String("job", e.Name), slog.String("error", err.Error()))
		}
	}
	for _, e := range j.entries() {
		if e.AfterTick != nil && ctx.Err() == nil {
			e.AfterTick(ctx)
		}
	}
	return ran
}

// RunNow runs the named job now (an admin asked), whenever it last ran, unless another
// replica holds it (ErrConflict). An unknown name is ErrNotFound.
func (j *Jobs) RunNow(ctx context.Context, name string) (any, error) {
	j.mu.Lock()
	e := j.jobs[name]
	j.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("job %q: %w", name, ErrNotFound)
	}
	ok, err := j.store.ClaimJob(ctx, e.Name, j.holder, j.clock(), e.Lease, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("job %q: claim: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("another replica is running job %q: %w", name, ErrConflict)
	}
	return j.claimed(ctx, e)
}

// claimed runs e, which this replica has claimed, and releases the claim.
func (j *Jobs) claimed(ctx context.Context, e *jobEntry) (any, error) {
	e.running.Lock()
	defer e.running.Unlock()
	defer func() {
		if err := j.store.CompleteJob(context.WithoutCancel(ctx), e.Name, j.holder, j.clock()); err != nil {
			j.log.Warn("job completion not recorded", slog.String("job", e.Name), slog.String("error", err.Error()))
		}
	}()
	return e.Run(ctx)
}

// Start runs the scheduler until ctx ends: a pass of RunDue at once, then every tick. It
// returns at once; Start twice is an error.
func (j *Jobs) Start(ctx context.Context) error {
	j.mu.Lock()
	if j.started {
		j.mu.Unlock()
		return fmt.Errorf("jobs: already started: %w", ErrConflict)
	}
	j.started = true
	j.mu.Unlock()
	go j.loop(ctx)
	return nil
}

func (j *Jobs) loop(ctx context.Context) {
	for {
		j.RunDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(j.period()):
		}
	}
}

// period is the tick: WithJobsTick, else the shortest job period capped at a minute.
func (j *Jobs) period() time.Duration {
	if j.tick > 0 {
		return j.tick
	}
	p := time.Minute
	for _, e := range j.entries() {
		if e.Every > 0 && e.Every < p {
			p = e.Every
		}
	}
	return p
}
