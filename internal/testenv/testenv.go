// Package testenv finds what tests need from outside the repository — the shared test data
// beside the repository root and a PostgreSQL server — and decides whether its absence
// skips the test or fails it. CI sets VETTED_REQUIRE_SHARED=1 and VETTED_REQUIRE_POSTGRES=1
// so that nothing silently skips there.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding the repository's go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// SharedDir returns the path of ../shared beside the repository root (or $VETTED_SHARED_DIR).
// When it is missing the test is skipped, unless VETTED_REQUIRE_SHARED=1, when it fails.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VETTED_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join(filepath.Dir(ModuleRoot(t)), "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err != nil {
		if os.Getenv("VETTED_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared test data required (VETTED_REQUIRE_SHARED=1) but missing: %v", err)
		}
		t.Skipf("shared test data not found at %s (set VETTED_SHARED_DIR): %v", dir, err)
	}
	return dir
}

// SharedTestdata returns SharedDir(t)/testdata/<elem...>.
func SharedTestdata(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{SharedDir(t), "testdata"}, elem...)...)
}

// PostgresDSN returns the PostgreSQL connection string from $VETTED_TEST_POSTGRES. When it
// is unset the test is skipped, unless VETTED_REQUIRE_POSTGRES=1, when it fails. Tests must
// isolate themselves (a schema or database of their own), since packages run in parallel.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("VETTED_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("VETTED_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required (VETTED_REQUIRE_POSTGRES=1) but VETTED_TEST_POSTGRES is not set")
		}
		t.Skip("VETTED_TEST_POSTGRES not set; PostgreSQL tests skipped")
	}
	return dsn
}
