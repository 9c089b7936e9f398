// Package match builds an in-memory index of an OSV snapshot and matches SBOM packages against
// it the way the OSV schema says: ecosystem from the purl type, version order per ecosystem
// (osv-scalibr's semantic package), ECOSYSTEM and SEMVER ranges with introduced / fixed /
// last_affected / limit events, explicit versions lists compared as versions, withdrawn records
// ignored, GIT ranges never matched by version, aliases merged into one finding, severity from
// CVSS vectors with the database's own label as fallback.
//
// It fails closed: a package whose ecosystem the snapshot does not cover, or whose version
// cannot be ordered, is returned as not assessed — never silently clean. It also computes what
// changed between two snapshots for stored package lists (Diff), which the continuous re-scan
// needs without the SBOMs themselves.
package match
