package scan_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The scan library stays small and one-way: no registry, api or storage, no syft cataloging,
// and osv-scanner only in the test-only parity package.
func TestDependencies(t *testing.T) {
	forbidden := []string{
		"github.com/vetted-dev/vetted/registry",
		"github.com/vetted-dev/vetted/api",
		"github.com/anchore/syft",
		"github.com/google/osv-scanner",
		"github.com/danielgtaylor/huma",
		"github.com/jackc/pgx",
		"modernc.org/sqlite",
		"database/sql",
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/vetted-dev/vetted/scan/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("package scan/... depends on %s", dep)
			}
		}
	}
}
