package postgres_test

import (
	"testing"

	"github.com/vetted-dev/vetted/registry/postgres"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func TestDeskConformance(t *testing.T) {
	storetest.RunDesk(t, func(t *testing.T) storetest.DeskStore {
		dsn, schema := newSchema(t)
		return open(t, dsn, schema)
	})
}

var _ storetest.DeskStore = (*postgres.Store)(nil)
