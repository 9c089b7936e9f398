// Package osv reads and keeps an offline mirror of the OSV database: records in the OSV
// schema, a mirror directory in the osv.dev bulk layout (DIR/<Ecosystem>/all.zip, or
// osv-scanner's DIR/osv-scalibr/<Ecosystem>/all.zip, plus loose *.json records), immutable
// snapshots with an id and a manifest of what they hold, and Sync, which downloads a new
// snapshot from the osv.dev bucket (or a private mirror) and swaps it in atomically.
//
// It is cut apart from matching so that the publish pipeline and the continuous re-scan can
// ask "which snapshot is current" and "what changed" without knowing how versions compare.
package osv
