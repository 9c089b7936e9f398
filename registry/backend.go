package registry

// Backend is everything the registry asks of its storage, in one contract: what
// registry/sqlstore implements on SQLite and on PostgreSQL, checked at compile time for
// both. Consumers keep taking the narrow interfaces they need — Store (the read API),
// PublishStore (the pipeline), DeskStore (the desk), MonitorStore (continuous scanning) —
// all subsets of it, so that each can be faked in a test with only what it uses.
type Backend interface {
	Store
	BulkCreator
	PublishStore
	EvidenceStore
	LifecycleStore
	DeskStore
	StatusCounter
	ReportLister
	IntegritySource
	MirrorStore
}

var (
	_ Store        = Backend(nil)
	_ DeskStore    = Backend(nil)
	_ MonitorStore = Backend(nil)
)
