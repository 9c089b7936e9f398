package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered SQL script.
type Migration struct {
	// Version is the number the file name starts with (1, 2, …).
	Version int
	// Name is the file name without its number and extension ("init").
	Name string
	// SQL is the script; it may hold several statements.
	SQL string
}

// Load reads every "NNNN_name.sql" file in dir of fsys and returns them ordered by number.
// Numbers must start at 1 and have no gaps or duplicates, so that a missing or misnamed
// file fails loudly instead of being skipped.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := parseName(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		m.SQL = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: expected number %d, found %04d_%s.sql (numbers must run 1, 2, … without gaps or duplicates)", i+1, m.Version, m.Name)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("migrations: no *.sql files in %s", dir)
	}
	return ms, nil
}

func parseName(file string) (Migration, error) {
	base := strings.TrimSuffix(file, ".sql")
	num, name, ok := strings.Cut(base, "_")
	if !ok || name == "" {
		return Migration{}, fmt.Errorf("migrations: file %q is not named NNNN_name.sql", file)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return Migration{}, fmt.Errorf("migrations: file %q does not start with a positive number", file)
	}
	return Migration{Version: n, Name: name}, nil
}

// Pending returns the migrations in ms whose Version is not in applied.
func Pending(ms []Migration, applied map[int]bool) []Migration {
	var out []Migration
	for _, m := range ms {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}
