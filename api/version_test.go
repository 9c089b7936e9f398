package api

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestUpstreamVersionHealthPing(t *testing.T) {
	s := newServer(t, newMemStore())
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	for _, prefix := range []string{"/v0.1", "/v0"} {
		r := get(t, s, prefix+"/version")
		var v map[string]string
		if r.code != 200 || json.Unmarshal([]byte(r.body), &v) != nil || len(v) != 3 {
			t.Fatalf("%s/version: %d %s", prefix, r.code, r.body)
		}
		if v["version"] != bi.Main.Version || v["git_commit"] == "" || v["build_time"] == "" {
			t.Errorf("%s/version: %v, module version %q", prefix, v, bi.Main.Version)
		}
		if r := get(t, s, prefix+"/health"); r.code != 200 || strings.TrimSpace(r.body) != `{"status":"ok"}` {
			t.Errorf("%s/health: %d %s", prefix, r.code, r.body)
		}
		if r := get(t, s, prefix+"/ping"); r.code != 200 || strings.TrimSpace(r.body) != `{"pong":true}` {
			t.Errorf("%s/ping: %d %s", prefix, r.code, r.body)
		}
	}
	m := get(t, s, "/metrics")
	want := `vetted_build_info{build_time="` + Build().BuildTime + `",commit="` + Build().GitCommit + `",version="` + Build().Version + `"} 1`
	if !strings.Contains(m.body, want) {
		t.Errorf("metrics lack %s", want)
	}
}
