package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/vetted-dev/vetted/internal/testenv"
)

const module = "github.com/vetted-dev/vetted"

var (
	drivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3"}
	huma    = []string{"github.com/danielgtaylor/huma"}
)

// rule: packages under one of under (minus except) must not depend, even indirectly, on
// any import path starting with one of forbidden.
type rule struct {
	under     []string
	except    []string
	forbidden []string
}

var rules = []rule{
	{
		under:     []string{module + "/registry"},
		except:    []string{module + "/registry/sqlite", module + "/registry/postgres"},
		forbidden: concat(drivers, huma, []string{module + "/api", module + "/cmd"}),
	},
	{
		under:     []string{module + "/attest", module + "/scan"},
		forbidden: concat(drivers, huma, []string{module + "/api", module + "/registry", module + "/cmd"}),
	},
	{
		// The launch lint is a pure function of server.json: no I/O, no other layer.
		under: []string{module + "/registry/launch"},
		forbidden: concat(drivers, huma, []string{module + "/api", module + "/registry", module + "/attest", module + "/scan",
			module + "/cmd", "net", "os/exec", "database/sql"}),
	},
	{
		// Authentication and authorization sit below api: api imports them, never the reverse.
		under: []string{module + "/api/auth"},
		forbidden: concat(drivers, []string{module + "/api", module + "/registry", module + "/attest",
			module + "/scan", module + "/cmd"}),
	},
	{
		// The outbound guard is the standard library's, and nobody else's.
		under:     []string{module + "/internal/netguard"},
		forbidden: concat(drivers, huma, []string{module + "/api", module + "/registry", module + "/attest", module + "/scan", module + "/cmd"}),
	},
}

func TestDependencyBudget(t *testing.T) {
	pkgs := list(t, "./registry/...", "./attest/...", "./scan/...", "./api/auth", "./internal/netguard")
	checked := 0
	for _, r := range rules {
		for _, p := range pkgs {
			if !within(p.ImportPath, r.under) || within(p.ImportPath, r.except) {
				continue
			}
			checked++
			for _, f := range r.forbidden {
				for _, dep := range p.Deps {
					if within(dep, []string{f}) {
						t.Errorf("%s depends on %s (%s), which its layer must not import (DESIGN.md: cmd -> api -> registry -> {attest, scan})", p.ImportPath, f, dep)
						break
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked: the rules match nothing")
	}
}

// The checker sees transitive dependencies: the SQLite backend, which the registry rule
// exempts, does depend on the driver.
func TestCheckerSeesDrivers(t *testing.T) {
	pkgs := list(t, "./registry/sqlite")
	if len(pkgs) != 1 || !within(pkgs[0].ImportPath, []string{module + "/registry/sqlite"}) {
		t.Fatalf("go list returned %v", pkgs)
	}
	found := false
	for _, dep := range pkgs[0].Deps {
		found = found || within(dep, drivers)
	}
	if !found {
		t.Fatalf("registry/sqlite's dependencies %v include no driver: the checker is blind", pkgs[0].Deps)
	}
}

type pkg struct {
	ImportPath string
	Deps       []string
	Error      *struct{ Err string }
}

// list runs `go list -e -json` on patterns and returns the packages that have code
// (directories holding no Go files yet are skipped; other load errors fail the test).
func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Deps,Error"}, patterns...)...)
	cmd.Dir = testenv.ModuleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil {
			if strings.Contains(p.Error.Err, "no Go files") || strings.Contains(p.Error.Err, "matched no packages") {
				continue
			}
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func within(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
