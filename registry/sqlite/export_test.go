package sqlite

import "github.com/vetted-dev/vetted/registry/sqlstore"

// Counts returns the store's cache of its search index's trigram counts (nil when search
// does not narrow), for tests that give it counts of their choosing.
func Counts(s *Store) *sqlstore.TrigramCounts { return s.counts }
