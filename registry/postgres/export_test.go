package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pools returns the store's pool and its generic pool, for tests that look at their
// sessions.
func Pools(s *Store) (main, generic *pgxpool.Pool) { return s.pool, s.generic }
