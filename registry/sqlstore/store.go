package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// Dialect is what differs between the SQL databases the store runs on. Queries are written
// once, with "?" placeholders; Rebind turns them into the database's own.
type Dialect struct {
	// Name prefixes errors ("sqlite", "postgres").
	Name string
	// MigrationsTable creates schema_migrations if it does not exist.
	MigrationsTable string
	// Numbered placeholders ($1, $2, …) instead of "?".
	Numbered bool
	// Time encodes a time for a time column (Unix microseconds, or a timestamp).
	Time func(time.Time) any
	// True is the literal of a true boolean column ("1", "true"): partial indexes match it.
	True string
	// ForUpdate is appended to a SELECT that must lock its rows until the transaction ends
	// ("" where a single writer serializes every write transaction).
	ForUpdate string
	// NamespaceExpr extracts the namespace of servers.name.
	NamespaceExpr string
	// LockServers creates the servers' rows if needed and, where rows are locked, locks them
	// until the transaction ends (names come sorted).
	LockServers func(ctx context.Context, tx *sql.Tx, names []string, createdAt []any) error
	// Retryable reports whether a write transaction that failed with err may run again.
	Retryable func(err error) bool
	// BulkInsert inserts rows into table's columns within tx (on conn).
	BulkInsert func(ctx context.Context, conn *sql.Conn, tx *sql.Tx, table string, columns []string, rows [][]any) error
	// AfterBulk, when set, runs after a bulk create of n versions (outside its transaction).
	AfterBulk func(ctx context.Context, db *sql.DB, n int) error
	// SearchFilter returns the condition on servers.name that keeps names containing term
	// (ASCII case-insensitively), using the dialect's search index, and its arguments.
	SearchFilter func(term string) (string, []any)
	// SearchNarrow, when set, is used instead of SearchFilter: it may read the database (both
	// dialects read their index's trigram counts, see CheapestPart) to choose what the index
	// is asked for, and its condition must still keep exactly the names containing term.
	SearchNarrow func(ctx context.Context, db *sql.DB, term string) (SearchCond, error)
	// ScanFilter is the same condition without the index: the full scan of every name that
	// search was before the index (issue 15). Only the read benchmark uses it
	// (WithSearchScan), to measure the index against it in one run.
	ScanFilter func(term string) (string, []any)
	// PlanWithValues, when set, are arguments put before the others of a query that must be
	// planned with its values in hand (a search: a generic plan does not know how selective
	// the pattern is); such queries are not prepared.
	PlanWithValues []any
	// DriverPrepares reports that the driver prepares and caches statements on each
	// connection itself: the store then sends reads as plain queries instead of holding a
	// sql.Stmt for each.
	DriverPrepares bool
}

// A SearchCond is a condition on servers.name that keeps the names containing a term, with
// its arguments.
type SearchCond struct {
	Cond string
	Args []any
	// Generic reports that a plan made without the arguments' values serves every value
	// (the index is asked for at least one trigram, whatever the term): a query with this
	// condition then runs as a prepared statement on the store's generic pool, when it has
	// one (SetGenericReads), instead of being planned anew with its values.
	Generic bool
}

// Store is the registry's SQL storage (see the package comment). It is safe for concurrent
// use.
type Store struct {
	w, r  *sql.DB // writes; reads (the same pool where one serves both)
	g     *sql.DB // reads planned once for every value (SearchCond.Generic); nil: none
	d     Dialect
	now   func() time.Time
	log   *slog.Logger
	stmts sync.Map // query text -> *sql.Stmt prepared on r
	binds sync.Map // query text -> rebound text
}

var _ registry.Backend = (*Store)(nil)

// New returns a store over the database's write and read pools (they may be the same).
func New(w, r *sql.DB, d Dialect, now func() time.Time, log *slog.Logger) *Store {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{w: w, r: r, d: d, now: now, log: log}
}

// SetGenericReads gives the store a read pool whose sessions plan a prepared statement once
// for all values (PostgreSQL: plan_cache_mode = force_generic_plan). Searches whose
// condition is SearchCond.Generic run there: planning a search with its values cost more
// than running it. The caller closes g after the store. Call it before the store is used.
func (s *Store) SetGenericReads(g *sql.DB) { s.g = g }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	return nil
}

// Close closes the prepared statements and the pools.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// q rebinds query's "?" placeholders for the dialect.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	if b, ok := s.binds.Load(query); ok {
		return b.(string)
	}
	var sb strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(query[i])
	}
	s.binds.Store(query, sb.String())
	return sb.String()
}

// A reader runs one read statement with its arguments: a *sql.Stmt, or a query sent as is
// where the driver prepares (Dialect.DriverPrepares).
type reader interface {
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

type plainQuery struct {
	db    *sql.DB
	query string
}

func (p plainQuery) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.query, args...)
}

func (p plainQuery) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.query, args...)
}

// stmt returns the read statement for query, preparing it once (or, where the driver
// prepares, the query as is).
func (s *Store) stmt(ctx context.Context, query string) (reader, error) {
	if s.d.DriverPrepares {
		return plainQuery{s.r, s.q(query)}, nil
	}
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// tx is a write transaction with the dialect's placeholders.
type tx struct {
	s    *Store
	tx   *sql.Tx
	conn *sql.Conn
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.q(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.q(query), args...)
}

func (t *tx) row(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.q(query), args...)
}

// retries is how many times a write transaction is run again after a retryable failure
// (serialization failure, deadlock, a unique row another writer committed first: the retry
// sees it and answers as idempotent or conflicting; a busy database).
const retries = 3

// write runs fn in a write transaction and commits; when fn reports a change visible to
// clients, the change sequence is bumped last (so that its row lock is held only until
// commit).
func (s *Store) write(ctx context.Context, fn func(*tx) (changed bool, err error)) error {
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || attempt == retries || !s.d.Retryable(err) {
			return s.wrap(err)
		}
		s.log.Debug("retrying write", "attempt", attempt+1, "err", err)
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(*tx) (bool, error)) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	t := &tx{s: s, tx: sqlTx, conn: conn}
	changed, err := fn(t)
	if err != nil {
		return err
	}
	if changed {
		if _, err := t.exec(ctx, `UPDATE registry_state SET change_seq = change_seq + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("bump change seq: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// wrap prefixes driver errors; registry errors pass through unchanged.
func (s *Store) wrap(err error) error {
	if err == nil || errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrConflict) || errors.Is(err, registry.ErrInvalid) ||
		errors.Is(err, registry.ErrAuditChain) || errors.Is(err, registry.ErrNamespacesChanged) {
		return err
	}
	return fmt.Errorf("%s: %w", s.d.Name, err)
}

func (s *Store) errorf(format string, a ...any) error {
	return fmt.Errorf(s.d.Name+": "+format, a...)
}

// placeholders returns n "?" separated by commas.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func statusArgs(sts []registry.Status) []any {
	out := make([]any, len(sts))
	for i, st := range sts {
		out[i] = string(st)
	}
	return out
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanTime reads a time column in either encoding (Unix microseconds or a timestamp).
type scanTime struct{ t *time.Time }

func (st scanTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*st.t = time.UnixMicro(v).UTC()
	case time.Time:
		*st.t = v.UTC()
	case nil:
		*st.t = time.Time{}
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// farFuture stands for "no bound" in time comparisons.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
