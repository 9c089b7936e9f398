package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vetted-dev/vetted/scan/match"
)

// AuditExceptionApply records a re-scan that fails the scan policy only on findings an
// active exception of the version accepts: the version stays published, its new scan is
// stored, and the event names the exceptions and the findings they accepted.
const AuditExceptionApply = "exception.apply"

// failingFinding is one cause of a scan failing its policy: an unsuppressed vulnerability
// finding at or above the policy's failing severity (IDs: its id, then its aliases), or
// another cause no vulnerability exception can accept (IDs empty, What says which).
type failingFinding struct {
	IDs      []string
	Severity string
	Package  string
	What     string
}

func (f failingFinding) String() string {
	if len(f.IDs) == 0 {
		return f.What
	}
	return fmt.Sprintf("%s (%s) in %s", f.IDs[0], f.Severity, f.Package)
}

// rescanExcuse is how a failing re-scan compares with the version's active exceptions.
type rescanExcuse struct {
	// readable is false when a failing report does not say which findings fail it (no
	// policy decision, an unknown threshold, an unreadable report): nothing is excused then.
	readable   bool
	failing    []failingFinding
	uncovered  []failingFinding
	exceptions []Exception // active at the re-scan
	used       []string    // the exceptions accepting a failing finding
}

// covered reports whether the exceptions accept every finding that fails the re-scan.
func (e rescanExcuse) covered() bool {
	return e.readable && len(e.failing) > 0 && len(e.uncovered) == 0
}

// list names findings for a reason: at most five, then how many more.
func (rescanExcuse) list(fs []failingFinding) string {
	var out []string
	for _, f := range fs {
		if s := f.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	const show = 5
	if len(out) > show {
		out = append(out[:show], fmt.Sprintf("and %d more", len(out)-show))
	}
	return strings.Join(out, "; ")
}

// data is what the audit event records of the comparison (nil when no exception is active).
func (e rescanExcuse) data() map[string]any {
	if len(e.exceptions) == 0 {
		return nil
	}
	ids := func(fs []failingFinding) []string {
		out := []string{}
		for _, f := range fs {
			if s := f.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	active := []string{}
	for _, x := range e.exceptions {
		active = append(active, x.ID)
	}
	used := e.used
	if used == nil {
		used = []string{}
	}
	return map[string]any{"activeExceptions": active, "acceptedBy": used, "failing": ids(e.failing), "uncovered": ids(e.uncovered)}
}

// excuse compares the findings that fail the re-scan outs of k with k's exceptions active
// at now.
func (m *Monitor) excuse(ctx context.Context, k Key, outs []*ScanOutcome, now time.Time) (rescanExcuse, error) {
	var ex rescanExcuse
	es, err := m.store.Exceptions(ctx, ExceptionQuery{Key: &k})
	if err != nil {
		return ex, fmt.Errorf("exceptions of %s@%s: %w", k.Name, k.Version, err)
	}
	for _, e := range es {
		if e.Active(now) {
			ex.exceptions = append(ex.exceptions, e)
		}
	}
	if len(ex.exceptions) == 0 {
		return ex, nil
	}
	if ex.failing, ex.readable = failingFindings(outs); !ex.readable {
		return ex, nil
	}
	for _, f := range ex.failing {
		i := slices.IndexFunc(ex.exceptions, func(e Exception) bool { return e.CoversVulnerability(f.IDs...) })
		if i < 0 {
			ex.uncovered = append(ex.uncovered, f)
			continue
		}
		if id := ex.exceptions[i].ID; !slices.Contains(ex.used, id) {
			ex.used = append(ex.used, id)
		}
	}
	return ex, nil
}

// failingFindings reads, from the reports of the failing outcomes, what makes them fail:
// the unsuppressed findings at or above the failing severity their policy decision names
// (VEX statements are applied by the scan), and packages not assessed when the decision
// counts them. ok is false when a failing report does not say.
func failingFindings(outs []*ScanOutcome) (fs []failingFinding, ok bool) {
	for _, o := range outs {
		if o == nil || o.Summary.Outcome != Fail {
			continue
		}
		rs, err := DecodeReports(o.Report)
		if err != nil || len(rs) == 0 {
			return nil, false
		}
		for _, r := range rs {
			if r == nil || r.Policy == nil {
				return nil, false
			}
			failOn, known := match.ParseLevel(r.Policy.FailOn)
			if !known {
				return nil, false
			}
			for _, f := range r.Findings {
				if f.Suppressed != nil || match.Level(f.Vulnerability.Severity).Rank() < failOn.Rank() {
					continue
				}
				fs = append(fs, failingFinding{IDs: append([]string{f.Vulnerability.ID}, f.Vulnerability.Aliases...),
					Severity: f.Vulnerability.Severity, Package: f.Package.Name + " " + f.Package.Version})
			}
			if len(r.NotAssessed) > 0 && !r.Policy.AllowNotAssessed {
				fs = append(fs, failingFinding{What: fmt.Sprintf("%d package(s) not assessed by the OSV mirror", len(r.NotAssessed))})
			}
		}
	}
	return fs, true
}
