// Package scan checks SBOMs against an offline OSV mirror: it decodes the SBOM (package sbom),
// matches its packages against an index of the current mirror snapshot (packages osv and
// match), applies VEX exceptions (package vex) and a severity policy, and writes the report
// (package report: JSON, SARIF, table).
//
// It knows nothing of HTTP or storage so that it can be used as a library on its own: the
// publish pipeline scans with Scanner, and the continuous re-scan keeps a Mirror, reloads it
// when a sync produced a new snapshot, and re-matches the stored package lists with
// match.Diff. Where the mirror cannot judge a package, the package is reported as not
// assessed, never as clean.
package scan
