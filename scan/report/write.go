package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vetted-dev/vetted/scan/match"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes a readable table: findings first (most severe first), then packages that
// were not assessed, then a summary and the policy decision.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "OSV snapshot %s, %d packages (%d assessed)\n\n", r.Snapshot.ID, r.Summary.Packages, r.Summary.Assessed)
	if len(r.Findings) == 0 {
		fmt.Fprintln(tw, "No known vulnerabilities.")
	} else {
		fmt.Fprintln(tw, "SEVERITY\tSCORE\tVULNERABILITY\tPACKAGE\tVERSION\tFIXED IN\tSTATUS")
		for _, f := range r.Findings {
			score := "-"
			if f.Vulnerability.Score > 0 {
				score = strconv.FormatFloat(f.Vulnerability.Score, 'f', 1, 64)
			}
			fixed := strings.Join(f.Fixed, ", ")
			if fixed == "" {
				fixed = "-"
			}
			status := "open"
			switch {
			case f.Suppressed != nil:
				status = "suppressed (VEX " + f.Suppressed.Status + ")"
			case f.VEX != nil:
				status = "VEX " + f.VEX.Status
			}
			id := f.Vulnerability.ID
			if len(f.Vulnerability.Aliases) > 0 {
				id += " (" + strings.Join(f.Vulnerability.Aliases, ", ") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Vulnerability.Severity, score, id,
				f.Package.Name, f.Package.Version, fixed, status)
		}
	}
	if len(r.NotAssessed) > 0 {
		fmt.Fprintln(tw, "\nNOT ASSESSED\tVERSION\tECOSYSTEM\tREASON")
		for _, n := range r.NotAssessed {
			eco := n.Ecosystem
			if eco == "" {
				eco = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Name, n.Version, eco, n.Reason)
		}
	}
	fmt.Fprintf(tw, "\n%d findings (%d suppressed by VEX), %d packages not assessed\n", r.Summary.Findings, r.Summary.Suppressed, r.Summary.NotAssessed)
	if r.Policy != nil && r.Policy.FailOn != "" {
		if r.Policy.Failed {
			fmt.Fprintf(tw, "Policy FAILED (fail-on %s): %s\n", r.Policy.FailOn, strings.Join(r.Policy.Reasons, "; "))
		} else {
			fmt.Fprintf(tw, "Policy passed (fail-on %s)\n", r.Policy.FailOn)
		}
	}
	return tw.Flush()
}

// SARIF 2.1.0, the subset Vetted writes.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool             sarifTool         `json:"tool"`
	NewlineSequences []string          `json:"newlineSequences"`
	Language         string            `json:"language"`
	Results          []sarifResult     `json:"results"`
	Properties       map[string]string `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name,omitempty"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	HelpURI          string         `json:"helpUri,omitempty"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

const notAssessedRule = "VETTED-NOT-ASSESSED"

// WriteSARIF writes the report as SARIF 2.1.0, one rule per vulnerability and one result per
// finding, located at the SBOM file (artifactURI, e.g. "sbom.spdx.json"). Suppressed findings
// carry an accepted external suppression; packages not assessed are results of their own rule.
func (r *Report) WriteSARIF(w io.Writer, artifactURI, toolVersion string) error {
	if artifactURI == "" {
		artifactURI = "sbom.json"
	}
	run := sarifRun{
		Tool:             sarifTool{Driver: sarifDriver{Name: "vetted", InformationURI: "https://github.com/vetted-dev/vetted", Version: toolVersion, Rules: []sarifRule{}}},
		Results:          []sarifResult{},
		NewlineSequences: []string{"\r\n", "\n"},
		Language:         "en-US",
		Properties:       map[string]string{"osvSnapshot": r.Snapshot.ID},
	}
	ruleIdx := map[string]int{}
	loc := []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI}, Region: sarifRegion{StartLine: 1}}}}
	for _, f := range r.Findings {
		v := f.Vulnerability
		idx, ok := ruleIdx[v.ID]
		if !ok {
			idx = len(run.Tool.Driver.Rules)
			ruleIdx[v.ID] = idx
			desc := v.Summary
			if desc == "" {
				desc = v.ID
			}
			props := map[string]any{"tags": []string{"security", "vulnerability"}, "aliases": v.Aliases}
			if v.Score > 0 {
				props["security-severity"] = strconv.FormatFloat(v.Score, 'f', 1, 64)
			} else if s := securitySeverity(match.Level(v.Severity)); s != "" {
				props["security-severity"] = s
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID: v.ID, Name: ruleName(v.ID), ShortDescription: sarifText{desc}, FullDescription: sarifText{desc},
				HelpURI:    "https://osv.dev/vulnerability/" + v.ID,
				Help:       sarifText{v.ID + ": " + desc + " (aliases: " + strings.Join(v.Aliases, ", ") + ")"},
				Properties: props,
			})
		}
		msg := fmt.Sprintf("%s %s is affected by %s (severity %s)", f.Package.Name, f.Package.Version, v.ID, v.Severity)
		if len(f.Fixed) > 0 {
			msg += "; fixed in " + strings.Join(f.Fixed, ", ")
		}
		res := sarifResult{
			RuleID: v.ID, RuleIndex: idx, Level: sarifLevel(match.Level(v.Severity)), Message: sarifText{msg},
			Locations:           loc,
			PartialFingerprints: map[string]string{"vettedFinding/v1": fingerprint(f.Package.PURL, f.Package.Name, f.Package.Version, v.ID)},
			Properties:          map[string]any{"package": f.Package, "fixed": f.Fixed},
		}
		if f.Suppressed != nil {
			just := f.Suppressed.Status
			if f.Suppressed.Justification != "" {
				just += ": " + f.Suppressed.Justification
			}
			if f.Suppressed.ImpactStatement != "" {
				just += " — " + f.Suppressed.ImpactStatement
			}
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: just}}
		}
		run.Results = append(run.Results, res)
	}
	if len(r.NotAssessed) > 0 {
		idx := len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: notAssessedRule, Name: "PackageNotAssessed",
			ShortDescription: sarifText{"Package not assessed by the OSV mirror"},
			FullDescription:  sarifText{"The OSV mirror cannot judge this package (no purl, ecosystem not mirrored, or version not orderable); it is not known to be clean."},
			Help:             sarifText{"Mirror the package's ecosystem or fix the SBOM entry."},
			Properties:       map[string]any{"tags": []string{"security"}},
		})
		for _, n := range r.NotAssessed {
			run.Results = append(run.Results, sarifResult{
				RuleID: notAssessedRule, RuleIndex: idx, Level: "warning",
				Message:             sarifText{fmt.Sprintf("%s %s not assessed: %s", n.Name, n.Version, n.Reason)},
				Locations:           loc,
				PartialFingerprints: map[string]string{"vettedFinding/v1": fingerprint(n.PURL, n.Name, n.Version, notAssessedRule)},
			})
		}
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func ruleName(id string) string {
	return "Vulnerability" + strings.NewReplacer("-", "", ".", "").Replace(id)
}

func sarifLevel(l match.Level) string {
	switch l {
	case match.LevelCritical, match.LevelHigh, match.LevelUnknown:
		return "error"
	case match.LevelMedium:
		return "warning"
	default:
		return "note"
	}
}

func securitySeverity(l match.Level) string {
	switch l {
	case match.LevelCritical:
		return "9.0"
	case match.LevelHigh:
		return "7.0"
	case match.LevelMedium:
		return "4.0"
	case match.LevelLow:
		return "0.1"
	}
	return ""
}

func fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}
