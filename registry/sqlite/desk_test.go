package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/vetted-dev/vetted/registry/sqlite"
	"github.com/vetted-dev/vetted/registry/storetest"
)

func TestDeskConformance(t *testing.T) {
	storetest.RunDesk(t, func(t *testing.T) storetest.DeskStore {
		return open(t, filepath.Join(t.TempDir(), "vetted.db"))
	})
}

var _ storetest.DeskStore = (*sqlite.Store)(nil)
