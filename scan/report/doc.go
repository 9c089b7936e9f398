// Package report turns a match result, the VEX statements that apply and a severity policy into
// the scan report: a stable JSON document (schema in docs/scan-report.md), SARIF 2.1.0 for code
// scanning, and a table for people.
//
// It is cut apart from matching so that the report's wire shape can stay stable while the
// index changes, and so that stored results can be re-rendered without the mirror.
package report
