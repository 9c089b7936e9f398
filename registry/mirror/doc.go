// Package mirror curates what others publish: it pulls server versions from an upstream
// registry that speaks the official v0.1 read API (the public catalog, another Vetted, any
// mirror of either), keeps those the curation list names, and sends each through the same
// publish pipeline (registry.Pipeline) as a publisher's push, under the curation policy of
// its namespace. The outcomes are the pipeline's — published, pending_review, rejected —
// and nothing bypasses it.
//
// Runs are incremental: the upstream is paged with its cursors and asked only for what
// changed since the high-water mark kept in the store (registry.MirrorStore), with
// include_deleted so that an upstream deletion is seen and quarantines the local copy
// pending review. An upstream entry whose content differs from the stored version of the
// same name and version is refused (versions are immutable) and reported. Every request
// goes through the caller's HTTP client (the outbound guard, internal/netguard), and every
// run is bounded in pages, entries, bytes and time. Running again without upstream changes
// does nothing.
package mirror
