package badinput

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Template is a server.json using every object of the official schema. The key cases are
// generated from it.
const Template = `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",` +
	`"name":"io.github.acme/weather","title":"Weather","description":"Weather","version":"1.0.0",` +
	`"websiteUrl":"https://acme.example/weather",` +
	`"icons":[{"src":"https://acme.example/i.png","mimeType":"image/png","sizes":["48x48"],"theme":"dark"}],` +
	`"repository":{"url":"https://github.com/acme/weather","source":"github","id":"123","subfolder":"srv"},` +
	`"packages":[{"registryType":"oci","registryBaseUrl":"https://ghcr.io","identifier":"ghcr.io/acme/weather:1.0.0","version":"1.0.0",` +
	`"fileSha256":"fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce","runtimeHint":"docker",` +
	`"transport":{"type":"stdio"},` +
	`"runtimeArguments":[{"type":"named","name":"--rm","valueHint":"x","isRepeated":false,"description":"d","isRequired":false,"format":"string",` +
	`"value":"v","isSecret":false,"default":"d","placeholder":"p","choices":["a"],"variables":{"region":{"description":"r","value":"eu"}}}],` +
	`"packageArguments":[{"type":"positional","valueHint":"file"}],` +
	`"environmentVariables":[{"name":"API_KEY","isSecret":true,"variables":{"key":{"format":"string"}}}]}],` +
	`"remotes":[{"type":"streamable-http","url":"https://acme.example/mcp/{region}",` +
	`"headers":[{"name":"X-Region","value":"{region}"}],"variables":{"region":{"default":"eu","choices":["eu","us"]}}}],` +
	`"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"build":{"commit":"abc"},"tool":"ci"}}}`

// simple is a minimal valid server.json.
const simple = `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"io.github.acme/weather","description":"Weather","version":"1.0.0","packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:1","transport":{"type":"stdio"}}]}`

const (
	publish   = "/v0.1/publish"
	maxBody   = 256 << 10
	server    = "/v0.1/servers/io.github.acme%2Fweather"
	extServer = "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/1.0.0"
	review    = "/v0.1/x/dev.vetted/review/servers/io.github.acme%2Fweather/versions/1.0.0"
)

var jsonCT = map[string]string{"Content-Type": "application/json"}

type gen struct{ cases []Case }

func (g *gen) add(c Case) {
	if c.Method == "" {
		c.Method = "GET"
	}
	g.cases = append(g.cases, c)
}

func (g *gen) pub(name, body string, status int, want string) {
	g.add(Case{Name: name, Method: "POST", Target: publish, Header: jsonCT, Token: "publisher", Body: body, Status: []int{status}, Want: want})
}

// Generate returns the corpus.
func Generate() []Case {
	g := &gen{}
	g.findings()
	g.keyCases()
	g.documentCases()
	g.sizeCases()
	g.tokenCases()
	g.pathCases()
	g.queryCases()
	g.headerCases()
	g.reviewCases()
	return g.cases
}

// findings are the reproducers of issue 17, by item.
func (g *gen) findings() {
	spoof := strings.Replace(simple, `"description"`, `"Name":"io.github.other/spoof","description"`, 1)
	g.add(Case{Name: "finding/namespace-spoof-Name", Finding: "17.1", Method: "POST", Target: publish, Header: jsonCT, Token: "other",
		Body: spoof, Status: []int{422}, Want: `body.Name`})
	g.add(Case{Name: "finding/namespace-spoof-Name-first", Finding: "17.1", Method: "POST", Target: publish, Header: jsonCT, Token: "other",
		Body: strings.Replace(simple, `"name"`, `"Name":"io.github.other/spoof","name"`, 1), Status: []int{422}, Want: `body.Name`})
	unsigned := `[{"registryType":"oci","identifier":"ghcr.io/acme/unsigned:1","transport":{"type":"stdio"}}]`
	g.add(Case{Name: "finding/kelvin-packages-escaped", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"packages"`, `"pac\u212Aages":`+unsigned+`,"packages"`, 1), Status: []int{422}, Want: `pac\\u212aages`})
	g.add(Case{Name: "finding/kelvin-packages-raw", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"packages"`, "\"pac\u212aages\":"+unsigned+`,"packages"`, 1), Status: []int{422}, Want: `pac\\u212aages`})
	g.add(Case{Name: "finding/Version-variant", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"description"`, `"Version":"9.9.9","description"`, 1), Status: []int{422}, Want: `body.Version`})
	g.add(Case{Name: "finding/long-s-version-variant", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"description"`, `"ver\u017Fion":"9.9.9","description"`, 1), Status: []int{422}, Want: `ver\\u017fion`})
	g.add(Case{Name: "finding/Remotes-variant", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"description"`, `"Remotes":[{"type":"sse","url":"https://attacker.example/mcp"}],"description"`, 1), Status: []int{422}, Want: `body.Remotes`})
	g.add(Case{Name: "finding/long-s-remotes-variant", Finding: "17.2", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Body: strings.Replace(simple, `"description"`, `"remote\u017F":[{"type":"sse","url":"https://attacker.example/mcp"}],"description"`, 1), Status: []int{422}, Want: `remote\\u017f`})
	// Item 3: 4,000 and 20,000 unknown keys; the answer stays small (checked for every case).
	for _, n := range []int{4000, 20000} {
		g.add(Case{Name: fmt.Sprintf("finding/amplification-%d-keys", n), Finding: "17.3", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
			Repeat: &Repeat{Prefix: simple[:len(simple)-1] + ",", Item: `"x%d":1`, Sep: ",", Count: n, Suffix: "}"}, Status: []int{422}, Want: "more"})
	}
	// Item 9.
	g.add(Case{Name: "finding/serverName-triple-encoded-slash", Finding: "17.9", Target: "/v0.1/servers/io.github.acme%25252Fweather/versions/latest", Status: []int{400, 404}, Want: "serverName"})
	g.add(Case{Name: "finding/serverName-double-encoded-slash", Finding: "17.9", Target: "/v0.1/servers/io.github.acme%252Fweather/versions/latest", Status: []int{400, 404}, Want: "serverName"})
	g.add(Case{Name: "finding/cursor-malformed-escape", Finding: "17.9", Target: "/v0.1/servers?cursor=%%%", Status: []int{400}, Want: "cursor"})
	g.add(Case{Name: "finding/limit-malformed-escape", Finding: "17.9", Target: "/v0.1/servers?limit=%zz", Status: []int{400}, Want: "limit"})
	for _, e := range inOrder(map[string]string{"nul-only": `\u0000`, "nuls": `\u0000\u0000\u0000`, "blank": `   `, "zero-width": `\u200b\u200b`, "controls": `\u0001\u0007`}) {
		name, reason := e.k, e.v
		g.add(Case{Name: "finding/" + name + "-reason", Finding: "17.9", Method: "POST", Target: review + "/approve", Header: jsonCT, Token: "reviewer",
			Body: `{"reason":"` + reason + `"}`, Status: []int{400, 422}, Want: "body.reason"})
	}
	g.add(Case{Name: "finding/token-ten-year-exp", Finding: "17.9", Target: "/v0.1/x/dev.vetted/audit", Token: "forged:exp10y", Status: []int{401}, Want: "lifetime"})
	g.add(Case{Name: "finding/17-packages", Finding: "17.9", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		Repeat: &Repeat{Prefix: simple[:strings.Index(simple, `"packages"`)] + `"packages":[`,
			Item: `{"registryType":"oci","identifier":"ghcr.io/acme/weather:%d","transport":{"type":"stdio"}}`, Sep: ",", Count: 17, Suffix: "]}"},
		Status: []int{422}, Want: "at most 16"})
	g.add(Case{Name: "finding/healthz-not-rate-limited", Finding: "17.9", Target: "/healthz", Status: []int{200}})
}

// keyOcc is one key of Template.
type keyOcc struct {
	start, end int
	key, path  string
	free       bool
}

// keys lists Template's keys with their byte ranges; free marks keys of free-form objects
// (publisher-provided and below, variables maps).
func keys() []keyOcc {
	dec := json.NewDecoder(strings.NewReader(Template))
	type frame struct {
		obj, wantKey, free, deep bool
		path                     string
	}
	var stack []frame
	var out []keyOcc
	last := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			end := int(dec.InputOffset())
			out = append(out, keyOcc{start: end - len(k) - 2, end: end, key: k, path: top.path + "." + k, free: top.free})
			last, top.wantKey = k, false
			continue
		}
		if top != nil && top.obj {
			top.wantKey = true
		}
		path, deep := "", false
		if top != nil {
			path, deep = top.path+"."+last, top.deep
			if !top.obj {
				path = top.path + "[0]"
			}
		}
		switch tok {
		case json.Delim('{'):
			f := frame{obj: true, wantKey: true, path: path, free: deep, deep: deep}
			if top != nil && top.obj && last == "io.modelcontextprotocol.registry/publisher-provided" {
				f.free, f.deep = true, true
			} else if top != nil && top.obj && last == "variables" && !top.free {
				f.free = true
			}
			stack = append(stack, f)
		case json.Delim('['):
			stack = append(stack, frame{path: path, deep: deep})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	return out
}

func variants(k string) []string {
	var out []string
	add := func(v string) {
		if v == k {
			return
		}
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	add(strings.ToUpper(k))
	for i, r := range k {
		if unicode.IsLetter(r) {
			add(k[:i] + string(unicode.ToUpper(r)) + k[i+len(string(r)):])
			break
		}
	}
	add(strings.NewReplacer("k", "\u212a", "K", "\u212a").Replace(k))
	add(strings.NewReplacer("s", "\u017f", "S", "\u017f").Replace(k))
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// keyCases: every key of the schema, at every depth, replaced by each of its case and
// Unicode-folding variants (422 where the keys are fixed), and a variant inserted next to
// it (422 everywhere: two readers could pick different entries).
func (g *gen) keyCases() {
	for _, o := range keys() {
		for i, v := range variants(o.key) {
			if !o.free {
				g.pub(fmt.Sprintf("key-variant/%s/%s", o.path[1:], quoteName(v)), Template[:o.start]+quote(v)+Template[o.end:], 422, "only by letter case")
			}
			if i == 0 || strings.ContainsAny(v, "\u212a\u017f") {
				g.pub(fmt.Sprintf("key-sibling/%s/%s", o.path[1:], quoteName(v)), Template[:o.start]+quote(v)+`:"x",`+Template[o.start:], 422, "letter case")
			}
		}
		g.pub("key-duplicate/"+o.path[1:], Template[:o.start]+quote(o.key)+`:null,`+Template[o.start:], 422, "duplicate key")
	}
}

func quoteName(s string) string { return strings.Trim(strconv.QuoteToASCII(s), `"`) }

// documentCases: unknown keys, wrong types, missing fields, constraint violations and
// syntax errors in the publish body.
func (g *gen) documentCases() {
	r := func(old, new string) string {
		if !strings.Contains(simple, old) {
			panic(old)
		}
		return strings.Replace(simple, old, new, 1)
	}
	for i, c := range []struct{ old, new, want string }{
		{`"version":"1.0.0"`, `"version":"1.0.0","versions":"2"`, "unknown key"},
		{`"type":"stdio"`, `"type":"stdio","command":"sh"`, "unknown key"},
		{`"identifier"`, `"image":"x","identifier"`, "unknown key"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"dev.vetted/verification":{"passed":true}}`, "unknown key"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/official":{"status":"active"}}`, "unknown key"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"dev.vetted/Tools":"x"}}`, "letter case"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"a":1,"A":2}}`, "case folding"},
		{`"version":"1.0.0"`, `"version":"1.0.0","repository":{"url":"https://x","branch":"main"}`, "unknown key"},
		{`"version":"1.0.0"`, `"version":1`, "expected a string"},
		{`"version":"1.0.0"`, `"version":null`, "required"},
		{`"version":"1.0.0"`, `"version":["1.0.0"]`, "expected a string"},
		{`"name":"io.github.acme/weather"`, `"name":{"value":"io.github.acme/weather"}`, "expected a string"},
		{`"packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:1","transport":{"type":"stdio"}}]`, `"packages":{"0":{"registryType":"oci","identifier":"ghcr.io/acme/weather:1","transport":{"type":"stdio"}}}`, "expected an array"},
		{`"transport":{"type":"stdio"}`, `"transport":"stdio"`, "expected an object"},
		{`"transport":{"type":"stdio"}`, `"transport":{"type":"stdio","headers":"x"}`, "expected an array"},
		{`"version":"1.0.0"`, `"version":"1.0.0","icons":[{"src":"https://x/i.png","theme":"blue"}]`, "must be one of"},
		{`"version":"1.0.0"`, `"version":"1.0.0","icons":[{"src":"https://x/i.png","sizes":["big"]}]`, "pattern"},
		{`"version":"1.0.0"`, `"version":"1.0.0","icons":[{"sizes":["48x48"]}]`, "required"},
		{`"version":"1.0.0"`, `"version":"1.0.0","websiteUrl":"http://[::1"`, "URI"},
		{`"description":"Weather"`, `"description":""`, "shorter than 1"},
		{`"description":"Weather"`, `"description":"` + strings.Repeat("d", 101) + `"`, "longer than 100"},
		{`"name":"io.github.acme/weather"`, `"name":"io.github.acme/weather/x"`, "pattern"},
		{`"name":"io.github.acme/weather"`, `"name":"io.github.acme\u2215weather"`, "pattern"},
		{`"name":"io.github.acme/weather",`, ``, "required"},
		{`"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",`, ``, "required"},
		{`"description":"Weather",`, ``, "required"},
		{`"transport":{"type":"stdio"}`, `"transport":{}`, "required"},
		{`"version":"1.0.0"`, `"version":"latest"`, "reserved"},
		{`"version":"1.0.0"`, `"version":"^1.0.0"`, "range"},
		{`"version":"1.0.0"`, `"version":"1.x"`, "range"},
		{`"version":"1.0.0"`, `"version":"` + strings.Repeat("9", 256) + `"`, "longer than 255"},
		{`"packages":[{"registryType":"oci","identifier":"ghcr.io/acme/weather:1","transport":{"type":"stdio"}}]`, `"packages":[]`, "at least one package"},
		{`"identifier":"ghcr.io/acme/weather:1"`, `"identifier":""`, "shorter than 1"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"dev.vetted/tools":7}}`, "tool manifest"},
		{`"description":"Weather"`, `"description":"We\ud800ther"`, "canonicalized"},
		{`"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"n":1e400}}`, "canonicalized"},
	} {
		g.pub(fmt.Sprintf("document/%02d-%s", i, strings.ReplaceAll(c.want, " ", "-")), r(c.old, c.new), 422, c.want)
	}
	// Syntax: 400.
	for _, n := range []int{0, 1, 2, 10, 40, 80, 120, 160, 200, 220, len(simple) - 2, len(simple) - 1} {
		body := simple[:n]
		if n == 0 {
			g.add(Case{Name: "syntax/empty-body", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher", Status: []int{400, 422}})
			continue
		}
		g.pub(fmt.Sprintf("syntax/truncated-at-%d", n), body, 400, "invalid JSON")
	}
	for _, kv := range inOrder(map[string]string{
		"trailing-garbage": simple + "x", "two-documents": simple + simple, "array": "[" + simple + "]",
		"string": `"` + strings.ReplaceAll(simple, `"`, `\"`) + `"`, "null": "null", "number": "0", "single-quotes": strings.ReplaceAll(simple, `"`, `'`),
		"comment": "/*x*/" + simple, "nan": strings.Replace(simple, `"Weather"`, `NaN`, 1), "unquoted-key": strings.Replace(simple, `"name"`, `name`, 1),
		"trailing-comma": strings.Replace(simple, `}]}`, `},]}`, 1), "raw-control-char": strings.Replace(simple, "Weather", "Wea\x01ther", 1),
		"nul-in-body": strings.Replace(simple, "Weather", "Wea\x00ther", 1), "bom": "\ufeff" + simple,
	}) {
		name, body := kv.k, kv.v
		status := 400
		if name == "array" || name == "string" || name == "null" || name == "number" {
			status = 422
		}
		g.pub("syntax/"+name, body, status, "")
	}
	g.add(Case{Name: "syntax/invalid-utf8", Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
		BodyBase64: base64.StdEncoding.EncodeToString([]byte(strings.Replace(simple, "Weather", "We\xff\xfether", 1))), Status: []int{400}, Want: "UTF-8"})
	g.add(Case{Name: "syntax/utf16", Method: "POST", Target: publish, Header: map[string]string{"Content-Type": "application/json; charset=utf-16"}, Token: "publisher",
		BodyBase64: base64.StdEncoding.EncodeToString(utf16le(simple)), Status: []int{400}})
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json; charset=latin1", "application/yaml", strings.Repeat("a/", 2000)} {
		g.add(Case{Name: "content-type/" + quoteName(trunc(ct, 40)), Method: "POST", Target: publish, Header: map[string]string{"Content-Type": ct}, Token: "publisher",
			Body: strings.Replace(simple, `"name"`, `"Name":"io.github.other/x","name"`, 1), Status: []int{400, 415, 422}})
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sizeCases: the largest bodies, built for the worst answers and the most work.
func (g *gen) sizeCases() {
	head := simple[:len(simple)-1] + ","
	fits := func(item string, extra int) int { return (maxBody - len(head) - 2 - extra) / (len(item) + 2) }
	for _, c := range []struct {
		name, prefix, item, sep, suffix string
		count                           int
		status                          int
	}{
		{"unknown-keys-max", head, `"k%d":0`, ",", "}", fits(`"k99999":0`, 0), 422},
		{"empty-objects-max", head, `"o%d":{}`, ",", "}", fits(`"o99999":{}`, 0), 422},
		{"duplicate-keys-max", head, `"name":"x"`, ",", "}", fits(`"name":"x"`, 0), 422},
		{"case-variants-max", head, `"NAME%d":1`, ",", "}", fits(`"NAME99999":1`, 0), 422},
		{"meta-many-keys-max", head + `"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{`, `"p%d":[1,2,3]`, ",", "}}}", fits(`"p99999":[1,2,3]`, 80), 422},
		{"many-packages-max", strings.Replace(head, `"packages":[`, `"packages":[`, 1)[:strings.Index(head, `"packages"`)] + `"packages":[`, `{"registryType":"oci","identifier":"ghcr.io/a/b:%d","transport":{"type":"stdio"},"X":1}`, ",", "]}", fits(`{"registryType":"oci","identifier":"ghcr.io/a/b:99999","transport":{"type":"stdio"},"X":1}`, 80), 422},
		{"wrong-types-max", simple[:strings.Index(simple, `"packages"`)] + `"packages":[`, `{"registryType":1,"identifier":[],"transport":"x"}`, ",", "]}", fits(`{"registryType":1,"identifier":[],"transport":"x"}`, 200), 422},
		{"deep-arrays", head + `"_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"a":`, "[", "", "}}}", 100000, 422},
		{"deep-objects", head + `"_meta":{"io.modelcontextprotocol.registry/publisher-provided":`, `{"a":`, "", "}}", 30000, 422},
		{"huge-key", head + `"`, "\u212a", "", `":0}`, 80000, 422},
		{"huge-string", head + `"title":"`, `\u0001`, "", `"}`, 40000, 422},
		{"over-limit", head + `"title":"`, "t", "", `"}`, maxBody, 413},
		{"one-mebibyte", head + `"title":"`, "t", "", `"}`, 1 << 20, 413},
	} {
		g.add(Case{Name: "size/" + c.name, Method: "POST", Target: publish, Header: jsonCT, Token: "publisher",
			Repeat: &Repeat{Prefix: c.prefix, Item: c.item, Sep: c.sep, Count: c.count, Suffix: c.suffix}, Status: []int{c.status}})
	}
}

// tokenCases: malformed, forged and misused bearer tokens on a publish and on a review read.
func (g *gen) tokenCases() {
	for _, kv := range inOrder(map[string]string{
		"empty-bearer": "Bearer ", "bearer-lowercase-garbage": "bearer x", "basic": "Basic dXNlcjpwYXNz", "no-scheme": "eyJhbGciOiJub25lIn0.e30.",
		"one-segment": "Bearer abc", "two-segments": "Bearer eyJhbGciOiJFZERTQSJ9.e30", "four-segments": "Bearer a.b.c.d",
		"bad-base64": "Bearer !!!.@@@.###", "header-not-json": "Bearer " + b64("not json") + "." + b64("{}") + ".sig",
		"header-array": "Bearer " + b64("[]") + "." + b64("{}") + ".sig", "alg-none": "Bearer " + b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(`{"sub":"x","vetted_roles":["admin"]}`) + ".",
		"alg-HS256":   "Bearer " + b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(`{"sub":"x"}`) + "." + b64("sig"),
		"deep-claims": "Bearer " + b64(`{"alg":"EdDSA"}`) + "." + b64(strings.Repeat(`{"a":`, 5000)+"1"+strings.Repeat("}", 5000)) + ".c2ln",
		"huge-token":  "Bearer " + strings.Repeat("A", 60000), "nul-in-token": "Bearer a\x00b", "two-spaces": "Bearer  x.y.z",
		"unicode-token": "Bearer \u212a.\u017f.x",
	}) {
		name, auth := kv.k, kv.v
		g.add(Case{Name: "token/publish/" + name, Method: "POST", Target: publish, Header: map[string]string{"Content-Type": "application/json", "Authorization": auth},
			Body: simple, Status: []int{400, 401}})
		g.add(Case{Name: "token/audit/" + name, Target: "/v0.1/x/dev.vetted/audit", Header: map[string]string{"Authorization": auth}, Status: []int{400, 401}})
	}
	for _, kind := range ForgeKinds {
		if kind == "exp10y" {
			continue // a finding (above)
		}
		status := []int{401}
		if kind == "roles-not-a-list" || kind == "roles-case-variant" { // authenticated, no role
			status = []int{401, 403}
		}
		g.add(Case{Name: "token/forged/" + kind, Target: "/v0.1/x/dev.vetted/audit", Token: "forged:" + kind, Status: status})
	}
	g.add(Case{Name: "token/publish-without-token", Method: "POST", Target: publish, Header: jsonCT, Body: simple, Status: []int{401}})
	g.add(Case{Name: "token/publish-as-reviewer", Method: "POST", Target: publish, Header: jsonCT, Token: "reviewer", Body: simple, Status: []int{403}})
	g.add(Case{Name: "token/publish-other-namespace", Method: "POST", Target: publish, Header: jsonCT, Token: "other", Body: simple, Status: []int{403}, Want: "io.github.acme/weather"})
	g.add(Case{Name: "token/audit-as-publisher", Target: "/v0.1/x/dev.vetted/audit", Token: "publisher", Status: []int{403}})
	g.add(Case{Name: "token/rescan-as-reviewer", Method: "POST", Target: "/v0.1/x/dev.vetted/admin/rescan", Token: "reviewer", Status: []int{403}})
	g.add(Case{Name: "token/review-as-publisher", Method: "POST", Target: review + "/approve", Header: jsonCT, Token: "publisher", Body: `{"reason":"x"}`, Status: []int{403}})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// pathCases: odd server names, versions and endpoints on the read and extension APIs, and
// methods they do not answer.
func (g *gen) pathCases() {
	names := map[string]string{
		"encoded-slash-lower": "io.github.acme%2fweather", "no-slash": "weather", "two-slashes": "a%2Fb%2Fc",
		"nul": "io.github.acme%2Fweather%00", "percent-zz": "io.github.acme%zzweather", "lone-percent": "io.github.acme%",
		"dotdot": "..%2F..%2Fetc", "long-10k": strings.Repeat("a", 10000) + "%2Fb", "unicode": "io.github.%E2%84%AAacme%2Fweather",
		"kelvin-raw": "io.github.\u212aacme%2Fweather", "space": "io.github.acme%2Fwea%20ther", "plus": "io.github.acme%2Fwea+ther",
		"overlong-utf8": "io.github.acme%C0%AFweather", "invalid-utf8": "io.github.acme%FF%2Fweather", "backslash": "io.github.acme%5Cweather",
		"double-encoded-dot": "%252E%252E", "empty": "", "semicolon": "io.github.acme%2Fweather;x=1",
	}
	for _, e := range inOrder(names) {
		name, n := e.k, e.v
		for _, suffix := range []string{"/versions/latest", "/versions", ""} {
			status := []int{400, 404}
			if suffix == "" {
				status = []int{400, 404, 405}
			}
			if n == "" { // "//": the router redirects to the cleaned path
				status = append(status, 307)
			}
			g.add(Case{Name: "path/server" + suffix + "/" + name, Target: "/v0.1/servers/" + n + suffix, Status: status})
		}
		g.add(Case{Name: "path/tools/" + name, Target: "/v0.1/x/dev.vetted/servers/" + n + "/versions/1.0.0/tools", Status: []int{400, 404, 307}})
	}
	for _, kv := range inOrder(map[string]string{
		"nul": "1.0.0%00", "latest-upper": "LATEST", "long": strings.Repeat("1", 5000), "percent-zz": "%zz", "slash": "1%2F0",
		"dotdot": "..", "encoded-dotdot": "%2E%2E", "range": "%5E1.0.0", "space": "1.0.0%20",
	}) {
		name, v := kv.k, kv.v
		g.add(Case{Name: "path/version/" + name, Target: server + "/versions/" + v, Status: []int{307, 400, 404}})
		g.add(Case{Name: "path/scan-version/" + name, Target: "/v0.1/x/dev.vetted/servers/io.github.acme%2Fweather/versions/" + v + "/scan?format=sarif", Status: []int{307, 400, 404}})
	}
	for _, p := range []string{"/v0.1/serverz", "/v0.2/servers", "/v0.1/x/dev.vetted/nope", "/" + strings.Repeat("x/", 3000), "/%00", "/v0.1//servers",
		"/v0.1/servers/../servers", "/.well-known/dev.vetted/../../etc/passwd", "/v0.1/x/dev.vetted/servers/a%2Fb/versions/1/evil", "/ui/../../../etc/passwd", "/openapi.json/x"} {
		g.add(Case{Name: "path/unknown/" + quoteName(trunc(p, 40)), Target: p, Status: []int{301, 307, 308, 400, 404}})
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH"} {
		for _, p := range []string{"/v0.1/servers", server + "/versions/latest", publish, "/healthz", extServer + "/tools"} {
			g.add(Case{Name: "method/" + m + p, Method: m, Target: p, Token: "admin", Status: []int{404, 405}})
		}
	}
	g.add(Case{Name: "method/GET-publish", Target: publish, Status: []int{404, 405}})
	g.add(Case{Name: "method/lowercase-get", Method: "get", Target: "/v0.1/servers", Status: []int{400, 404, 405, 501}})
	g.add(Case{Name: "method/long", Method: strings.Repeat("X", 1000), Target: "/v0.1/servers", Status: []int{400, 404, 405, 501}})
}

// queryCases: malformed and out-of-range query parameters.
func (g *gen) queryCases() {
	for _, kv := range inOrder(map[string]string{
		"limit-negative": "limit=-1", "limit-zero": "limit=0", "limit-huge": "limit=99999999999999999999", "limit-float": "limit=1.5",
		"limit-text": "limit=abc", "limit-twice": "limit=1&limit=2", "limit-empty": "limit=", "limit-nul": "limit=1%00",
		"cursor-garbage": "cursor=not-a-cursor", "cursor-long": "cursor=" + strings.Repeat("A", 8000), "cursor-nul": "cursor=%00",
		"cursor-json": "cursor=%7B%22a%22%3A1%7D", "cursor-percent": "cursor=%", "cursor-twice": "cursor=a&cursor=b",
		"updated-since-garbage": "updated_since=yesterday", "updated-since-far": "updated_since=99999-01-01T00:00:00Z",
		"search-long": "search=" + strings.Repeat("s", 8000), "search-nul": "search=%00", "search-percent-zz": "search=%zz",
		"version-garbage": "version=%zz", "semicolons": "limit=1;limit=2", "bare-ampersands": "&&&", "key-only": "limit",
		"unknown-param": "frobnicate=1", "many-params": strings.Repeat("a=1&", 2000),
	}) {
		name, q := kv.k, kv.v
		g.add(Case{Name: "query/servers/" + name, Target: "/v0.1/servers?" + q, Status: []int{200, 400, 422}})
		g.add(Case{Name: "query/versions/" + name, Target: server + "/versions?" + q, Status: []int{200, 400, 404, 422}})
	}
	for _, kv := range inOrder(map[string]string{
		"format-xml": "format=xml", "format-empty": "format=", "format-upper": "format=SARIF", "format-percent": "format=%zz", "format-twice": "format=json&format=sarif",
	}) {
		name, q := kv.k, kv.v
		g.add(Case{Name: "query/scan/" + name, Target: extServer + "/scan?" + q, Status: []int{400, 404, 406, 422}})
	}
	for _, kv := range inOrder(map[string]string{"after-negative": "after=-1", "limit-huge": "limit=1000000", "after-text": "after=x", "after-percent": "after=%%%"}) {
		name, q := kv.k, kv.v
		g.add(Case{Name: "query/audit/" + name, Target: "/v0.1/x/dev.vetted/audit?" + q, Token: "reviewer", Status: []int{400, 422}})
	}
}

// headerCases: odd headers on reads.
func (g *gen) headerCases() {
	for _, kv := range inOrderH(map[string]map[string]string{
		"if-none-match-huge":   {"If-None-Match": strings.Repeat(`"x",`, 5000)},
		"if-none-match-star":   {"If-None-Match": "*"},
		"accept-garbage":       {"Accept": "\x01\x02"},
		"accept-long":          {"Accept": strings.Repeat("text/html;q=0.1,", 2000)},
		"accept-encoding-odd":  {"Accept-Encoding": "br;q=2, gzip;q=-1, *;q=nan"},
		"x-forwarded-for":      {"X-Forwarded-For": strings.Repeat("1.2.3.4, ", 2000)},
		"x-forwarded-for-junk": {"X-Forwarded-For": "not-an-ip, \u212a"},
		"forwarded-junk":       {"Forwarded": "for=\"[::1\";proto=gopher"},
		"origin-evil":          {"Origin": "https://evil.example"},
		"range":                {"Range": "bytes=0-0,1-1,2-2"},
		"host-junk":            {"X-Forwarded-Host": "evil.example"},
		"cookie-junk":          {"Cookie": strings.Repeat("a=b; ", 2000)},
		"content-length-get":   {"Content-Type": "application/json"},
	}) {
		name, h := kv.k, kv.v
		g.add(Case{Name: "header/" + name, Target: "/v0.1/servers", Header: h, Status: []int{200, 304, 400, 406, 412, 416, 431}})
	}
	g.add(Case{Name: "header/ui-login-cross-origin", Method: "POST", Target: "/ui/login", Header: map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
		Body: "token=x", Status: []int{400, 403, 404}})
	g.add(Case{Name: "header/ui-login-scheme-mismatch", Method: "POST", Target: "/ui/login", Header: map[string]string{"Origin": "https://127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"},
		Body: "token=x", Status: []int{400, 403, 404}})
}

// reviewCases: the review API's bodies.
func (g *gen) reviewCases() {
	for _, kv := range inOrder(map[string]string{
		"empty-reason": `{"reason":""}`, "no-reason": `{}`, "reason-number": `{"reason":1}`, "Reason-variant": `{"reason":"ok","Reason":""}`,
		"kelvin-variant": `{"reason":"ok","reason\u212a":1}`, "reason-too-long": `{"reason":"` + strings.Repeat("r", 5000) + `"}`,
		"unknown-key": `{"reason":"ok","force":true}`, "duplicate-reason": `{"reason":"ok","reason":""}`, "not-json": `reason=ok`,
		"array": `["ok"]`, "deep": strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	}) {
		name, body := kv.k, kv.v
		g.add(Case{Name: "review/approve/" + name, Method: "POST", Target: review + "/approve", Header: jsonCT, Token: "reviewer", Body: body, Status: []int{400, 404, 413, 422}})
	}
	g.add(Case{Name: "review/approve/too-large", Method: "POST", Target: review + "/approve", Header: jsonCT, Token: "reviewer",
		Repeat: &Repeat{Prefix: `{"reason":"`, Item: "r", Count: 64 << 10, Suffix: `"}`}, Status: []int{413}})
	g.add(Case{Name: "review/approve/many-keys", Method: "POST", Target: review + "/approve", Header: jsonCT, Token: "reviewer",
		Repeat: &Repeat{Prefix: `{"reason":"ok",`, Item: `"k%d":[1]`, Sep: ",", Count: 2000, Suffix: `}`}, Status: []int{422}, Want: "more"})
	for _, action := range []string{"reject", "quarantine", "release", "frobnicate"} {
		g.add(Case{Name: "review/" + action + "/missing-version", Method: "POST", Target: review + "/" + action, Header: jsonCT, Token: "reviewer", Body: `{"reason":"x"}`, Status: []int{404, 405, 409}})
	}
}

type kv[V any] struct {
	k string
	v V
}

// inOrder lists a map's entries by key, so that the corpus is the same on every run.
func inOrder(m map[string]string) []kv[string] { return sorted(m) }

func inOrderH(m map[string]map[string]string) []kv[map[string]string] { return sorted(m) }

func sorted[V any](m map[string]V) []kv[V] {
	out := make([]kv[V], 0, len(m))
	for k, v := range m {
		out = append(out, kv[V]{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}
