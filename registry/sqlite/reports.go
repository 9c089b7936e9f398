package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/vetted-dev/vetted/registry"
)

// ScanReports returns the stored scan report of every version in statuses (default
// published), in (name, version) order.
func (s *Store) ScanReports(ctx context.Context, statuses ...registry.Status) ([]registry.StoredReport, error) {
	if len(statuses) == 0 {
		statuses = []registry.Status{registry.StatusPublished}
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = string(st)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT v.name, v.version, v.status, r.scan_report
		FROM versions v JOIN version_records r ON r.name = v.name AND r.version = v.version
		WHERE v.status IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+`) AND r.scan_report IS NOT NULL
		ORDER BY v.name, v.version`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan reports: %w", err)
	}
	defer rows.Close()
	var out []registry.StoredReport
	for rows.Next() {
		var sr registry.StoredReport
		var status string
		var rep []byte
		if err := rows.Scan(&sr.Key.Name, &sr.Key.Version, &status, &rep); err != nil {
			return nil, fmt.Errorf("sqlite: scan reports: %w", err)
		}
		sr.Status, sr.Report = registry.Status(status), rep
		out = append(out, sr)
	}
	return out, rows.Err()
}

// CountByStatus returns how many versions are in each status.
func (s *Store) CountByStatus(ctx context.Context) (map[registry.Status]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM versions GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count by status: %w", err)
	}
	defer rows.Close()
	out := map[registry.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count by status: %w", err)
		}
		out[registry.Status(st)] = n
	}
	return out, rows.Err()
}
