package pypi

import (
	"errors"
	"strings"
	"testing"
)

const samplePage = `{"meta":{"api-version":"1.1"},"name":"Weather_MCP","files":[
 {"filename":"weather_mcp-1.0.0-py3-none-any.whl","url":"../../files/weather_mcp-1.0.0-py3-none-any.whl","hashes":{"sha256":"AB` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab" + `cd"},"yanked":false,"provenance":"https://idx/integrity/x"},
 {"filename":"weather_mcp-1.0.0.tar.gz","url":"/files/weather_mcp-1.0.0.tar.gz","hashes":{"md5":"00"},"yanked":"bad upload"},
 {"filename":"weather_mcp-0.9.tar.gz","url":"/f","hashes":{},"yanked":true}]}`

func TestParseProjectPageJSON(t *testing.T) {
	fs, err := ParseProjectPage([]byte(samplePage), SimpleJSON, "weather-mcp")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || fs[0].SHA256 != "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd" || fs[0].Provenance != "https://idx/integrity/x" ||
		fs[1].SHA256 != "" || fs[1].Yanked != "yanked: bad upload" || fs[2].Yanked != "yanked" || fs[0].Yanked != "" {
		t.Fatalf("%+v", fs)
	}
	// Another project's page, a duplicate key, an unknown API version, a short hash.
	for name, page := range map[string]string{
		"other project": strings.Replace(samplePage, "Weather_MCP", "weather-mcp2", 1),
		"duplicate key": strings.Replace(samplePage, `"name":"Weather_MCP"`, `"name":"Weather_MCP","name":"x"`, 1),
		"api version":   strings.Replace(samplePage, `"1.1"`, `"2.0"`, 1),
		"short hash":    strings.Replace(samplePage, "cd\"}", "\"}", 1),
		"yanked number": strings.Replace(samplePage, `"yanked":true`, `"yanked":1`, 1),
	} {
		if _, err := ParseProjectPage([]byte(page), SimpleJSON, "weather-mcp"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseProjectPageHTML(t *testing.T) {
	page := `<html><body>
<a href="../../files/weather_mcp-1.0.0-py3-none-any.whl#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" data-provenance="https://p/x">weather_mcp-1.0.0-py3-none-any.whl</a>
<A HREF='/files/weather_mcp-1.0.0.tar.gz' data-yanked>weather_mcp-1.0.0.tar.gz</A>
<a href="/files/weather_mcp-0.9.tar.gz#md5=00" data-yanked="broken &amp; old">weather_mcp-0.9.tar.gz</a>
</body></html>`
	fs, err := ParseProjectPage([]byte(page), "text/html; charset=utf-8", "weather-mcp")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || fs[0].URL != "../../files/weather_mcp-1.0.0-py3-none-any.whl" || fs[0].SHA256 == "" || fs[0].Provenance != "https://p/x" ||
		fs[1].Yanked != "yanked" || fs[1].URL != "/files/weather_mcp-1.0.0.tar.gz" || fs[2].Yanked != "yanked: broken & old" || fs[2].SHA256 != "" {
		t.Fatalf("%+v", fs)
	}
	if _, err := ParseProjectPage([]byte(`<a href="/x#sha256=12">x</a>`), "text/html", "x"); err == nil {
		t.Fatal("short sha256 accepted")
	}
}

func TestIndexRoot(t *testing.T) {
	for in, want := range map[string]string{
		"https://pypi.org": "https://pypi.org", "https://PyPI.org/simple/": "https://pypi.org",
		"http://127.0.0.1:8000/root/simple": "http://127.0.0.1:8000/root",
	} {
		if got, err := IndexRoot(in); err != nil || got != want {
			t.Errorf("IndexRoot(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"ftp://x", "https://u:p@x", "https://x/?q", "x"} {
		if _, err := IndexRoot(bad); !errors.Is(err, ErrSpec) {
			t.Errorf("IndexRoot(%q): %v", bad, err)
		}
	}
}

// FuzzProjectPage: no page panics the parsers, and every sha256 they return is 64 hex.
func FuzzProjectPage(f *testing.F) {
	f.Add([]byte(samplePage), true)
	f.Add([]byte(`<a href="/x.whl#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" data-yanked>x</a>`), false)
	f.Fuzz(func(t *testing.T, page []byte, isJSON bool) {
		ct := "text/html"
		if isJSON {
			ct = SimpleJSON
		}
		fs, err := ParseProjectPage(page, ct, "weather-mcp")
		if err != nil {
			return
		}
		for _, p := range fs {
			if p.SHA256 != "" && !hexSHA256.MatchString(p.SHA256) {
				t.Fatalf("sha256 %q", p.SHA256)
			}
		}
	})
}
