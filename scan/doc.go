// Package scan decodes SBOMs (SPDX and CycloneDX JSON), keeps an offline OSV mirror, matches packages against it the way the OSV schema says, applies VEX, and writes reports (JSON, SARIF, table).
//
// It knows nothing of HTTP or storage so that it can be used as a library on its own. Where the mirror cannot judge a package, the package is reported as not assessed, never as clean.
package scan
