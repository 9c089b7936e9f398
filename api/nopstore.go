package api

import (
	"context"
	"errors"
	"time"

	"github.com/vetted-dev/vetted/registry"
)

// nopStore is a Store with nothing behind it, for building the OpenAPI document without a
// database.
type nopStore struct{}

var errNopStore = errors.New("no store")

func (nopStore) Ping(context.Context) error { return errNopStore }
func (nopStore) Close() error               { return nil }
func (nopStore) CreateVersion(context.Context, registry.Version) (registry.Version, bool, error) {
	return registry.Version{}, false, errNopStore
}
func (nopStore) SetStatus(context.Context, registry.Key, registry.Status, time.Time) (registry.Version, error) {
	return registry.Version{}, errNopStore
}
func (nopStore) GetVersion(context.Context, registry.Key) (registry.Version, error) {
	return registry.Version{}, errNopStore
}
func (nopStore) LatestPublished(context.Context, string) (registry.Version, error) {
	return registry.Version{}, errNopStore
}
func (nopStore) ListServerVersions(context.Context, string, ...registry.Status) ([]registry.Version, error) {
	return nil, errNopStore
}
func (nopStore) ListVersionsPage(context.Context, registry.ListQuery) ([]registry.Version, bool, error) {
	return nil, false, errNopStore
}
func (nopStore) ChangeSeq(context.Context) (int64, error) { return 0, errNopStore }
