package main

import "testing"

// serve bounds the Go heap by the response cache plus a headroom, unless the operator set
// GOMEMLIMIT or turned the cache off.
func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		cacheMB int
		env     string
		want    int64
		ok      bool
	}{
		{256, "", 256<<20 + memoryHeadroom, true},
		{1, "", 1<<20 + memoryHeadroom, true},
		{256, "2GiB", 0, false},
		{0, "", 0, false},
	} {
		got, ok := memoryLimit(c.cacheMB, c.env)
		if got != c.want || ok != c.ok {
			t.Errorf("memoryLimit(%d, %q) = %d, %t; want %d, %t", c.cacheMB, c.env, got, ok, c.want, c.ok)
		}
	}
	if memoryHeadroom != 96<<20 || memoryHeadroomText != "96 MiB" {
		t.Errorf("the flag's help says %s, the headroom is %d bytes", memoryHeadroomText, memoryHeadroom)
	}
}

// Under its memory limit serve lets the heap grow further before collecting, unless the
// operator set GOGC; without the limit the runtime's default stays.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		limited bool
		env     string
		want    int
		ok      bool
	}{
		{true, "", limitedGCPercent, true},
		{true, "100", 0, false},
		{true, "off", 0, false},
		{false, "", 0, false},
	} {
		if got, ok := gcPercent(c.limited, c.env); got != c.want || ok != c.ok {
			t.Errorf("gcPercent(%t, %q) = %d, %t; want %d, %t", c.limited, c.env, got, ok, c.want, c.ok)
		}
	}
}
