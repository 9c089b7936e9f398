package parity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/osv-scanner/v2/pkg/osvscanner"

	"github.com/vetted-dev/vetted/scan"
	"github.com/vetted-dev/vetted/scan/internal/synth"
	"github.com/vetted-dev/vetted/scan/match"
	"github.com/vetted-dev/vetted/scan/osv"
	"github.com/vetted-dev/vetted/scan/sbom"
)

// The benchmark mirror: 200,000 synthetic records (VETTED_BENCH_RECORDS overrides), generated
// once per run into a temporary directory that TestMain removes.
const benchSeed = 42

type benchState struct {
	root      string
	mirror    *synth.Mirror
	dirA      string // the mirror
	dirB      string // the same with benchChanged records modified
	pkgs      []sbom.Package
	sbomPath  string
	sbomBytes []byte
	genTime   time.Duration

	idxOnce sync.Once
	idxA    *match.Index
	idxB    *match.Index
	idxErr  error
}

const benchChanged = 2000

var (
	benchOnce  sync.Once
	bench      *benchState
	benchErr   error
	benchRoots []string
)

func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("VETTED_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

func setupBench(b *testing.B) *benchState {
	b.Helper()
	benchOnce.Do(func() {
		root, err := os.MkdirTemp("", "vetted-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchRoots = append(benchRoots, root)
		s := &benchState{root: root, dirA: filepath.Join(root, "a"), dirB: filepath.Join(root, "b")}
		start := time.Now()
		n := benchRecords()
		if s.mirror, benchErr = synth.Generate(s.dirA, n, benchSeed, true); benchErr != nil {
			return
		}
		if benchErr = synth.Variant(s.dirB, n, benchSeed, benchChanged); benchErr != nil {
			return
		}
		s.genTime = time.Since(start)
		s.pkgs = s.mirror.Packages(1000, 1)
		s.sbomBytes = synth.CycloneDX(s.pkgs)
		s.sbomPath = filepath.Join(root, "bench.cdx.json")
		benchErr = os.WriteFile(s.sbomPath, s.sbomBytes, 0o644)
		bench = s
		fmt.Fprintf(os.Stderr, "synthetic mirror: %d records (%v), %.1f MiB of archives, generated in %v\n",
			s.mirror.Total, s.mirror.Records, float64(s.mirror.Bytes)/(1<<20), s.genTime.Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func (s *benchState) indexes(b *testing.B) (*match.Index, *match.Index) {
	b.Helper()
	s.idxOnce.Do(func() {
		if s.idxA, s.idxErr = scan.OpenIndex(context.Background(), s.dirA); s.idxErr != nil {
			return
		}
		s.idxB, s.idxErr = scan.OpenIndex(context.Background(), s.dirB)
	})
	if s.idxErr != nil {
		b.Fatal(s.idxErr)
	}
	return s.idxA, s.idxB
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// cpuTime is the process's user+system CPU time: on a shared machine it says more than the
// wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMiB reads the resident set size (current and peak) of the process.
func rssMiB() (cur, peak float64) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				cur = v / 1024
			case "VmHWM:":
				peak = v / 1024
			}
		}
	}
	return cur, peak
}

// BenchmarkIndexBuild: read, verify, decode and index the whole mirror. Reports the heap the
// index holds (in use after GC, index alive, minus before) and the process's resident memory.
func BenchmarkIndexBuild(b *testing.B) {
	s := setupBench(b)
	snap, err := osv.Open(s.dirA)
	if err != nil {
		b.Fatal(err)
	}
	before := heapInuse()
	// Reset the peak resident size so that peak-rss-MiB is this benchmark's, not the
	// generator's (Linux: writing 5 to clear_refs resets VmHWM).
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	cpu0 := cpuTime()
	b.ResetTimer()
	var idx *match.Index
	for b.Loop() {
		idx = nil
		if idx, err = match.Build(context.Background(), snap); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	after := heapInuse()
	if path := os.Getenv("VETTED_BENCH_HEAPPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f) // what the index holds
			f.Close()
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	cur, peak := rssMiB()
	b.ReportMetric(float64(idx.Records()), "records")
	b.ReportMetric(float64(after-before)/(1<<20), "index-heap-MiB")
	b.ReportMetric(float64(after)/(1<<20), "heap-inuse-MiB")
	b.ReportMetric(cur, "rss-MiB")
	b.ReportMetric(peak, "peak-rss-MiB")
	runtime.KeepAlive(idx)
}

// BenchmarkMatchSBOM: one 1,000-package SBOM against the warm index.
func BenchmarkMatchSBOM(b *testing.B) {
	s := setupBench(b)
	idx, _ := s.indexes(b)
	idx.Match(s.pkgs) // warm
	b.Run("match", func(b *testing.B) {
		var res *match.Result
		cpu0 := cpuTime()
		for b.Loop() {
			res = idx.Match(s.pkgs)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64(len(res.Findings)), "findings")
		b.ReportMetric(float64(len(s.pkgs)), "packages")
	})
	b.Run("decode+match+report", func(b *testing.B) {
		sc, err := scan.NewScanner(idx)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime()
		for b.Loop() {
			if _, _, err := sc.Scan(context.Background(), bytes.NewReader(s.sbomBytes), scan.Request{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// storedSets yields n stored package lists of 1,000 packages drawn from a shared pool (SBOMs
// share most of their dependencies), materialised one at a time as a store would page them.
func storedSets(m *synth.Mirror, n int) func(func(string, []sbom.Package) bool) {
	pool := m.Packages(50_000, 7)
	picks := make([][]int32, n)
	x := uint32(12345)
	for i := range picks {
		picks[i] = make([]int32, 1000)
		for j := range picks[i] {
			x = x*1664525 + 1013904223
			picks[i][j] = int32(x % uint32(len(pool)))
		}
	}
	return func(yield func(string, []sbom.Package) bool) {
		buf := make([]sbom.Package, 1000)
		for i, p := range picks {
			for j, k := range p {
				buf[j] = pool[k]
			}
			if !yield("sbom-"+strconv.Itoa(i), buf) {
				return
			}
		}
	}
}

// BenchmarkRescan: 10,000 stored SBOMs after a snapshot change. "delta" is a realistic change
// (2,000 records modified); "full" re-matches every package of every SBOM.
func BenchmarkRescan(b *testing.B) {
	s := setupBench(b)
	a, bb := s.indexes(b)
	sets := storedSets(s.mirror, 10_000)
	for _, mode := range []string{"delta", "full"} {
		b.Run(mode, func(b *testing.B) {
			var changes, newF, resolved int
			cpu0 := cpuTime()
			for b.Loop() {
				changes, newF, resolved = 0, 0, 0
				d := match.Diff(a, bb)
				if mode == "full" {
					d = match.FullDelta(a, bb)
				}
				err := d.Rescan(context.Background(), sets, func(c match.Change) error {
					changes++
					newF += len(c.New)
					resolved += len(c.Resolved)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(10_000, "sboms")
			b.ReportMetric(float64(changes), "sboms-changed")
			b.ReportMetric(float64(newF), "new-findings")
			b.ReportMetric(float64(resolved), "resolved-findings")
		})
	}
}

// BenchmarkOSVScannerDoScan: the same SBOM through osv-scanner v2.6.0's offline DoScan on the
// same mirror (osv-scalibr layout, hard links to the same archives), with Vetted's time for the
// same SBOM measured in the same run and the ratio reported.
func BenchmarkOSVScannerDoScan(b *testing.B) {
	s := setupBench(b)
	idx, _ := s.indexes(b)
	actions := osvscanner.ScannerActions{
		LockfilePaths: []string{s.sbomPath}, CompareOffline: true, LocalDBPath: s.dirA,
		PluginNetworkDisabled: true, ShowAllVulns: true,
	}
	actions.TransitiveScanning.Disabled = true
	var oracleSet map[finding]bool
	for b.Loop() {
		res, err := osvscanner.DoScan(actions)
		if err != nil && !errors.Is(err, osvscanner.ErrVulnerabilitiesFound) {
			b.Fatal(err)
		}
		oracleSet = map[finding]bool{}
		for _, src := range res.Results {
			for _, p := range src.Packages {
				for _, v := range p.Vulnerabilities {
					oracleSet[finding{oracleName(p.Package.Name, p.Package.Inventory), p.Package.Version, v.GetId()}] = true
				}
			}
		}
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	// Vetted on the same SBOM bytes, warm index, same process.
	sc, _ := scan.NewScanner(idx)
	const reps = 200
	start := time.Now()
	var mine map[finding]bool
	for range reps {
		rep, _, err := sc.Scan(context.Background(), bytes.NewReader(s.sbomBytes), scan.Request{})
		if err != nil {
			b.Fatal(err)
		}
		mine = map[finding]bool{}
		for _, f := range rep.Findings {
			for _, id := range f.Vulnerability.Records {
				mine[finding{f.Package.Name, f.Package.Version, id}] = true
			}
		}
	}
	vetted := time.Since(start) / reps
	missing, extra := diff(oracleSet, mine)
	b.ReportMetric(float64(vetted.Microseconds())/1000, "vetted-ms/sbom")
	b.ReportMetric(float64(perOp.Microseconds())/1000, "osvscanner-ms/sbom")
	b.ReportMetric(float64(perOp)/float64(vetted), "speedup-x")
	b.ReportMetric(float64(len(oracleSet)), "osvscanner-findings")
	b.ReportMetric(float64(len(mine)), "vetted-findings")
	b.ReportMetric(float64(len(missing)), "vetted-missing")
	b.ReportMetric(float64(len(extra)), "vetted-extra")
	// The expected extras are PyPI records whose GIT range comes first (osv-scanner stops there).
	other := 0
	for _, f := range extra {
		if !strings.HasPrefix(f, "py-pkg-") {
			other++
		}
	}
	b.ReportMetric(float64(other), "vetted-extra-not-pypi")
	if len(missing) > 0 {
		b.Logf("findings osv-scanner reports and Vetted does not (first 10): %v", head(missing, 10))
	}
	if len(extra) > 0 {
		b.Logf("findings Vetted reports and osv-scanner does not (first 10): %v", head(extra, 10))
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
