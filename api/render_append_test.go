package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
	"github.com/modelcontextprotocol/registry/pkg/model"
)

// The hand-written appenders write exactly what encoding/json writes.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	msg := "removed: <security> & \"policy\"\n"
	plain := "deprecated"
	times := []time.Time{
		time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 12, 5, 1, 2, 3, 450_000_000, time.UTC),
		time.Date(1999, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 5*3600+1800)),
		{},
	}
	for _, tm := range times {
		for _, m := range []*string{nil, &msg, &plain} {
			for _, latest := range []bool{true, false} {
				for _, st := range []model.Status{model.StatusActive, model.StatusDeleted, "odd\u2028<status>"} {
					e := apiv0.RegistryExtensions{Status: st, StatusChangedAt: tm, StatusMessage: m,
						PublishedAt: tm.Add(-time.Hour), UpdatedAt: tm, IsLatest: latest}
					want, err := json.Marshal(e)
					if err != nil {
						t.Fatal(err)
					}
					var got bytes.Buffer
					if err := appendOfficial(&got, e); err != nil {
						t.Fatal(err)
					}
					if got.String() != string(want) {
						t.Fatalf("appendOfficial:\n got %s\nwant %s", got.String(), want)
					}
				}
			}
		}
	}
	far := apiv0.RegistryExtensions{PublishedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, want := json.Marshal(far); want == nil || appendOfficial(new(bytes.Buffer), far) == nil {
		t.Fatalf("a year past 9999: encoding/json says %v; appendOfficial must fail as it does", want)
	}
	for _, k := range [][2]string{
		{"io.github.acme/weather", "1.0.0"},
		{"io.github.acme/we%ather", "1.0.0-rc.1+build<5>&"},
		{"com.example/\u00e9t\u00e9", "2.0.0"},
		{`io.github.a"b/c\d`, "\t1"},
	} {
		want, err := json.Marshal(Links(k[0], k[1]))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		appendLinks(&got, k[0], k[1])
		if got.String() != string(want) {
			t.Fatalf("appendLinks(%q, %q):\n got %s\nwant %s", k[0], k[1], got.String(), want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\x00\x7f", "\u2028", "\xff", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		var got bytes.Buffer
		appendJSONString(&got, s)
		if got.String() != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got.String(), want)
		}
	})
}
