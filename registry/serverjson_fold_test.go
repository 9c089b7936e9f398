package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	apiv0 "github.com/modelcontextprotocol/registry/pkg/api/v0"
)

// fullServer uses every object of the official schema, so that every key the decoder
// knows appears at least once.
const fullServer = `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
 "name":"io.github.acme/weather","title":"Weather","description":"Weather","version":"1.0.0",
 "websiteUrl":"https://acme.example/weather",
 "icons":[{"src":"https://acme.example/i.png","mimeType":"image/png","sizes":["48x48"],"theme":"dark"}],
 "repository":{"url":"https://github.com/acme/weather","source":"github","id":"123","subfolder":"srv"},
 "packages":[{"registryType":"oci","registryBaseUrl":"https://ghcr.io","identifier":"ghcr.io/acme/weather:1.0.0","version":"1.0.0",
   "fileSha256":"fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce","runtimeHint":"docker",
   "transport":{"type":"stdio"},
   "runtimeArguments":[{"type":"named","name":"--rm","valueHint":"x","isRepeated":false,"description":"d","isRequired":false,"format":"string",
     "value":"v","isSecret":false,"default":"d","placeholder":"p","choices":["a"],"variables":{"region":{"description":"r","value":"eu"}}}],
   "packageArguments":[{"type":"positional","valueHint":"file"}],
   "environmentVariables":[{"name":"API_KEY","isSecret":true,"variables":{"key":{"format":"string"}}}]}],
 "remotes":[{"type":"streamable-http","url":"https://acme.example/mcp/{region}",
   "headers":[{"name":"X-Region","value":"{region}"}],"variables":{"region":{"default":"eu","choices":["eu","us"]}}}],
 "_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"build":{"commit":"abc","pipeline":7},"tool":"ci"}}}`

// keyOcc is one object key in a document: its byte range (quotes included), its path and
// whether its object has free keys (a map or free-form value).
type keyOcc struct {
	start, end int
	key, path  string
	free       bool
}

// keyOccurrences lists every key of doc, which must spell its keys without escapes.
func keyOccurrences(t testing.TB, doc string) []keyOcc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	type frame struct {
		obj      bool
		wantKey  bool
		path     string
		free     bool // this object's keys are free
		freeDeep bool // and everything below
	}
	var stack []frame
	var out []keyOcc
	lastKey := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			end := int(dec.InputOffset())
			start := end - len(k) - 2
			if doc[start:end] != `"`+k+`"` {
				t.Fatalf("key %q not found at %d", k, start)
			}
			out = append(out, keyOcc{start: start, end: end, key: k, path: top.path + "/" + k, free: top.free})
			lastKey = k
			top.wantKey = false
			continue
		}
		if top != nil && top.obj {
			top.wantKey = true
		}
		path := ""
		deep := false
		if top != nil {
			path, deep = top.path+"/"+lastKey, top.freeDeep
			if !top.obj {
				path = top.path + "/[]"
			}
		}
		switch tok {
		case json.Delim('{'):
			// Free keys: the publisher-provided object and all below it; variables maps
			// (whose values are objects with fixed keys).
			inObj := top != nil && top.obj
			switch {
			case deep:
				stack = append(stack, frame{obj: true, wantKey: true, path: path, free: true, freeDeep: true})
			case inObj && lastKey == "io.modelcontextprotocol.registry/publisher-provided":
				stack = append(stack, frame{obj: true, wantKey: true, path: path, free: true, freeDeep: true})
			case inObj && lastKey == "variables" && !top.free:
				stack = append(stack, frame{obj: true, wantKey: true, path: path, free: true})
			default:
				stack = append(stack, frame{obj: true, wantKey: true, path: path})
			}
		case json.Delim('['):
			stack = append(stack, frame{path: path, freeDeep: deep})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	return out
}

// foldVariants are keys a case-insensitive decoder (encoding/json, huma) matches to k and
// an exact one does not.
func foldVariants(k string) []string {
	var out []string
	add := func(v string) {
		if v != k {
			for _, o := range out {
				if o == v {
					return
				}
			}
			out = append(out, v)
		}
	}
	add(strings.ToUpper(k))
	for i, r := range k {
		if unicode.IsLetter(r) {
			add(k[:i] + string(unicode.ToUpper(r)) + k[i+len(string(r)):])
			break
		}
	}
	add(strings.NewReplacer("k", "\u212a", "K", "\u212a").Replace(k)) // Kelvin sign
	add(strings.NewReplacer("s", "\u017f", "S", "\u017f").Replace(k)) // long s
	return out
}

func hasFieldError(err error, field, reason string) bool {
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
		return false
	}
	all := append([]FieldError{{Field: fe.Field, Reason: fe.Reason}}, fe.Also...)
	for _, e := range all {
		if strings.Contains(e.Field, field) && strings.Contains(e.Reason, reason) {
			return true
		}
	}
	return false
}

func TestFullServerAccepted(t *testing.T) {
	d, err := ParseServerJSON([]byte(fullServer))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Server.Packages[0]
	if len(p.RuntimeArguments) != 1 || p.RuntimeArguments[0].Name != "--rm" || p.RuntimeArguments[0].Variables["region"].Value != "eu" ||
		p.EnvironmentVariables[0].Name != "API_KEY" || d.Server.Remotes[0].Headers[0].Name != "X-Region" || d.Remotes != 1 {
		t.Fatalf("%+v", d.Server)
	}
}

// Every key of the schema, at every depth, replaced by a variant that differs only by case
// or under Unicode simple case folding, is refused naming the key; where keys are free
// (publisher-provided, variables), the variant is accepted as the different key it is.
func TestParseServerJSONRefusesCaseVariantKeys(t *testing.T) {
	occ := keyOccurrences(t, fullServer)
	if len(occ) < 60 {
		t.Fatalf("only %d keys found", len(occ))
	}
	refused := 0
	for _, o := range occ {
		for _, v := range foldVariants(o.key) {
			doc := fullServer[:o.start] + strconvQuote(v) + fullServer[o.end:]
			_, err := ParseServerJSON([]byte(doc))
			if o.free {
				if err != nil {
					t.Errorf("%s → %q under a free-form object: refused: %v", o.path, v, err)
				}
				continue
			}
			if !hasFieldError(err, jsonPathKey(v), "differs from the known key "+fmt.Sprintf("%q", o.key)+" only by letter case") {
				t.Errorf("%s → %q: %v", o.path, v, err)
			}
			refused++
		}
	}
	if refused < 150 {
		t.Fatalf("only %d variants refused", refused)
	}
}

// A case variant added next to a key, at any depth (free-form objects included), is
// refused: two decoders could pick different entries.
func TestParseServerJSONRefusesFoldingSiblings(t *testing.T) {
	for _, o := range keyOccurrences(t, fullServer) {
		for _, v := range foldVariants(o.key) {
			// The variant before the key (the order of the Kelvin-sign reproducer), with a
			// string value: a type error must not hide the key error.
			doc := fullServer[:o.start] + strconvQuote(v) + `:"x",` + fullServer[o.start:]
			_, err := ParseServerJSON([]byte(doc))
			want := "only by letter case"
			if o.free {
				want = "under case folding"
			}
			if !hasFieldError(err, jsonPathKey(v), want) && !hasFieldError(err, jsonPathKey(o.key), want) {
				t.Errorf("%s + %q: %v", o.path, v, err)
			}
		}
	}
}

// A key Vetted reads inside the free-form publisher-provided object is matched exactly too.
func TestParseServerJSONRefusesVettedMetaVariant(t *testing.T) {
	doc := strings.Replace(okServer, `"version":"1.0.0"`, `"version":"1.0.0","_meta":{"io.modelcontextprotocol.registry/publisher-provided":{"dev.vetted/Tools":"ghcr.io/x/t:1"}}`, 1)
	if _, err := ParseServerJSON([]byte(doc)); !hasFieldError(err, "dev.vetted/Tools", "only by letter case") {
		t.Fatal(err)
	}
}

func TestParseServerJSONExactDuplicates(t *testing.T) {
	for _, o := range keyOccurrences(t, fullServer) {
		doc := fullServer[:o.start] + strconvQuote(o.key) + `:null,` + fullServer[o.start:]
		if _, err := ParseServerJSON([]byte(doc)); !hasFieldError(err, jsonPathKey(o.key), "duplicate key") {
			t.Errorf("%s twice: %v", o.path, err)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonPathKey is how the decoder's paths end for key k.
func jsonPathKey(k string) string {
	plain := len(k) <= 64
	for i, r := range k {
		if !(r == '_' || r == '$' || r < unicode.MaxASCII && unicode.IsLetter(r) || i > 0 && r < unicode.MaxASCII && unicode.IsDigit(r)) {
			plain = false
		}
	}
	if plain {
		return k
	}
	return "[" + fmt.Sprintf("%+q", k) + "]"
}

// reading is what a client reads of a server.json: the fields that decide what it runs.
type reading struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Packages []string `json:"packages"`
	Remotes  []string `json:"remotes"`
}

func readingOf(s apiv0.ServerJSON) reading {
	r := reading{Name: s.Name, Version: s.Version, Packages: []string{}, Remotes: []string{}}
	for _, p := range s.Packages {
		r.Packages = append(r.Packages, p.RegistryType+" "+p.Identifier+" "+p.Version+" "+p.Transport.Type)
	}
	for _, t := range s.Remotes {
		r.Remotes = append(r.Remotes, t.Type+" "+t.URL)
	}
	return r
}

// pyReader reads the same fields with Python's json module (last duplicate wins, keys
// exact), one document per file.
const pyReader = `
import json, sys
out = []
for path in sys.argv[1:]:
    d = json.load(open(path, encoding="utf-8"))
    out.append({
        "name": d.get("name", ""), "version": d.get("version", ""),
        "packages": [" ".join([p.get("registryType", ""), p.get("identifier", ""), p.get("version", ""), (p.get("transport") or {}).get("type", "")]) for p in d.get("packages") or []],
        "remotes": [" ".join([r.get("type", ""), r.get("url", "")]) for r in d.get("remotes") or []],
    })
json.dump(out, sys.stdout)
`

// acceptedCorpus is documents the decoder accepts, some of them chosen to trip decoders
// that differ: escaped keys, free-form case variants, key order, unicode values.
func acceptedCorpus(t *testing.T) [][]byte {
	docs := []string{okServer, fullServer,
		strings.Replace(okServer, `"name":`, `"n\u0061me":`, 1),
		strings.Replace(fullServer, `"tool":"ci"`, `"tool":"ci","TOOLS":{"Name":"io.github.other/x","Version":"9"}`, 1),
		strings.Replace(fullServer, `"region":{"description":"r","value":"eu"}`, `"region":{"description":"r","value":"eu"},"zone":{"value":"us"}`, 1),
		strings.Replace(okServer, `"description":"Weather"`, `"description":"Wetter \u212a \u017f \u00e9 \ud83d\ude00"`, 1),
	}
	// Reordered keys: packages first, name last.
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(fullServer), &m); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range []string{"packages", "remotes", "_meta", "icons", "repository", "websiteUrl", "title", "description", "version", "$schema", "name"} {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "  %q: %s", k, m[k])
	}
	b.WriteString("\n}")
	docs = append(docs, b.String())
	// Every free-form variant the key tests produce.
	for _, o := range keyOccurrences(t, fullServer) {
		if o.free {
			for _, v := range foldVariants(o.key) {
				docs = append(docs, fullServer[:o.start]+strconvQuote(v)+fullServer[o.end:])
			}
		}
	}
	var out [][]byte
	for _, d := range docs {
		if _, err := ParseServerJSON([]byte(d)); err != nil {
			t.Fatalf("corpus document refused: %v\n%s", err, d)
		}
		out = append(out, []byte(d))
	}
	return out
}

// For every accepted document, and for its served form, Go's encoding/json (which matches
// keys case-insensitively), the strict decoder and Python's json read the same name,
// version, packages and remotes.
func TestServerJSONDifferential(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed for the differential test: ", err)
	}
	var docs [][]byte
	for _, d := range acceptedCorpus(t) {
		sd, _ := ParseServerJSON(d)
		pins := map[int]string{}
		for i := range sd.Packages {
			pins[i] = fmt.Sprintf("ghcr.io/acme/p%d@sha256:%064d", i, i)
		}
		served, err := PinServer(sd.Server, pins)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d, served)
	}
	dir := t.TempDir()
	var paths []string
	for i, d := range docs {
		p := filepath.Join(dir, fmt.Sprintf("%03d.json", i))
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cmd := exec.Command(py, append([]string{"-c", pyReader}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v: %s", err, stderr.String())
	}
	var pyReadings []reading
	if err := json.Unmarshal(out, &pyReadings); err != nil || len(pyReadings) != len(docs) {
		t.Fatalf("python output: %v (%d readings)", err, len(pyReadings))
	}
	for i, d := range docs {
		sd, err := ParseServerJSON(d)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		strict := readingOf(sd.Server)
		var lax apiv0.ServerJSON
		if err := json.Unmarshal(d, &lax); err != nil {
			t.Fatalf("doc %d: encoding/json: %v", i, err)
		}
		goReading := readingOf(lax)
		sj, _ := json.Marshal(strict)
		gj, _ := json.Marshal(goReading)
		pj, _ := json.Marshal(pyReadings[i])
		if string(sj) != string(gj) || string(sj) != string(pj) {
			t.Errorf("doc %d reads differently:\nstrict %s\ngo     %s\npython %s\n%s", i, sj, gj, pj, d)
		}
		if sd.Name == "" || len(strict.Packages)+len(strict.Remotes) == 0 {
			t.Errorf("doc %d: empty reading %s", i, sj)
		}
	}
	t.Logf("%d documents (accepted and served) read the same by 3 decoders", len(docs))
}

// FuzzServerJSONKeyFolding mutates one key of a full server.json into a variant under case
// or Unicode folding (replacing it, or inserting it as a sibling) and checks that the
// document is refused naming the key, or, where it is accepted (free-form objects), that a
// case-insensitive decoder reads the same name, version, packages and remotes.
func FuzzServerJSONKeyFolding(f *testing.F) {
	f.Add(uint16(1), uint8(0), false, "")
	f.Add(uint16(20), uint8(2), true, "")
	f.Add(uint16(7), uint8(1), false, "K")
	f.Add(uint16(3), uint8(3), true, "\u017f")
	occ := keyOccurrences(f, fullServer)
	f.Fuzz(func(t *testing.T, which uint16, variant uint8, insert bool, extra string) {
		o := occ[int(which)%len(occ)]
		vs := foldVariants(o.key)
		v := vs[int(variant)%len(vs)]
		// extra is folded into the key too, to reach runes no variant above has.
		for _, r := range extra {
			if f := unicode.SimpleFold(r); f != r && strings.ContainsRune(v, f) {
				v = strings.Replace(v, string(f), string(r), 1)
			}
		}
		if v == o.key {
			return
		}
		var doc string
		if insert {
			doc = fullServer[:o.start] + strconvQuote(v) + `:"x",` + fullServer[o.start:]
		} else {
			doc = fullServer[:o.start] + strconvQuote(v) + fullServer[o.end:]
		}
		d, err := ParseServerJSON([]byte(doc))
		if err != nil {
			if !hasFieldError(err, "", "letter case") && !hasFieldError(err, "", "case folding") {
				t.Fatalf("%s → %q refused for another reason: %v", o.path, v, err)
			}
			return
		}
		if !o.free || insert {
			t.Fatalf("%s → %q (insert %v) accepted", o.path, v, insert)
		}
		var lax apiv0.ServerJSON
		if err := json.Unmarshal([]byte(doc), &lax); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(readingOf(d.Server))
		b, _ := json.Marshal(readingOf(lax))
		if string(a) != string(b) {
			t.Fatalf("two meanings: strict %s, encoding/json %s", a, b)
		}
	})
}
