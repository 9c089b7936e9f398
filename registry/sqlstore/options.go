package sqlstore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Options are what the backends' Open functions take, in one type so that the options both
// share are written once. Each backend reads the fields that concern it.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// SQLite: the read pool's size and how long a connection waits for a lock.
	ReadConns   int
	BusyTimeout time.Duration
	// PostgreSQL: the schema of Vetted's tables and the pool size.
	Schema   string
	MaxConns int32
	// SearchScan makes search scan every name instead of using the index (benchmark only).
	SearchScan bool
	// SearchWholeTerm makes search ask the index for the whole term (benchmark only).
	SearchWholeTerm bool
}

// WithSearchScan makes search scan every server name, as it did before the search index:
// the answers are the same, only slower. It exists for the read benchmark (bench/read.sh),
// which measures the index against the scan in one run; never use it to serve.
func WithSearchScan() Option {
	return func(o *Options) error { o.SearchScan = true; return nil }
}

// WithSearchWholeTerm makes search ask the index for every trigram of the term, as it did
// before the trigram counts (Dialect.SearchNarrow): the answers are the same. It
// exists for the store's search benchmark, to measure the narrowing in one run.
func WithSearchWholeTerm() Option {
	return func(o *Options) error { o.SearchWholeTerm = true; return nil }
}

// Searching returns d for o: with SearchScan, its ScanFilter as the SearchFilter (and no
// SearchNarrow); with SearchWholeTerm, no SearchNarrow.
func (o Options) Searching(d Dialect) Dialect {
	if o.SearchScan && d.ScanFilter != nil {
		d.SearchFilter, d.SearchNarrow = d.ScanFilter, nil
	}
	if o.SearchWholeTerm {
		d.SearchNarrow = nil
	}
	return d
}

// Option configures a backend's Open.
type Option func(*Options) error

// Apply applies opts over defaults (the clock defaults to time.Now, the logger discards).
func Apply(defaults Options, opts []Option) (Options, error) {
	o := defaults
	o.Now, o.Log = time.Now, slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// WithClock sets the clock used for times the caller leaves zero (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *Options) error {
		if now == nil {
			return errors.New("WithClock(nil)")
		}
		o.Now = now
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) error {
		if l == nil {
			return errors.New("WithLogger(nil)")
		}
		o.Log = l
		return nil
	}
}

// WithReadConns sets the size of SQLite's read-only connection pool (default 2×GOMAXPROCS,
// at least 4).
func WithReadConns(n int) Option {
	return func(o *Options) error {
		if n < 1 {
			return fmt.Errorf("WithReadConns(%d): need at least 1", n)
		}
		o.ReadConns = n
		return nil
	}
}

// WithBusyTimeout sets how long a SQLite connection waits for a lock held by another
// process (default 10s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *Options) error {
		if d < 0 {
			return fmt.Errorf("WithBusyTimeout(%v): negative", d)
		}
		o.BusyTimeout = d
		return nil
	}
}

// WithSchema keeps Vetted's PostgreSQL tables in schema, created on Open if missing, by
// setting every connection's search_path to it. The default is the connection's own
// search_path.
func WithSchema(schema string) Option {
	return func(o *Options) error {
		if schema == "" {
			return errors.New(`WithSchema("")`)
		}
		o.Schema = schema
		return nil
	}
}

// WithMaxConns sets the PostgreSQL pool size (default: pgxpool's, or pool_max_conns in the
// DSN).
func WithMaxConns(n int32) Option {
	return func(o *Options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxConns(%d): need at least 1", n)
		}
		o.MaxConns = n
		return nil
	}
}
