package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Note string `json:"note,omitempty" maxLength:"5"`
}

type base struct {
	Kind string `json:"kind" enum:"a,b"`
	inner
}

type doc struct {
	base
	Name  string            `json:"name" minLength:"1" pattern:"^[a-z]+$"`
	URL   string            `json:"url,omitempty" format:"uri"`
	Tags  []string          `json:"tags,omitempty" items.pattern:"^t[0-9]$"`
	Vars  map[string]inner  `json:"vars,omitempty"`
	Free  map[string]any    `json:"free,omitempty"`
	Ptr   *inner            `json:"ptr,omitempty"`
	Flag  bool              `json:"flag,omitempty"`
	N     int               `json:"n,omitempty"`
	Skip  string            `json:"-"`
	Raw   map[string]string `json:"raw,omitempty"`
	Opt   string            `json:"opt" required:"false"`
	Force string            `json:"force,omitempty" required:"true"`
}

const okDoc = `{"kind":"a","note":"hi","name":"abc","force":"x","url":"https://x","tags":["t1"],"vars":{"V":{"note":"n"}},
 "free":{"A":[1,{"b":null}],"a2":true},"ptr":null,"flag":true,"n":3,"raw":{"K":"v"}}`

func TestDecodeAccepts(t *testing.T) {
	var d doc
	if err := Decode([]byte(okDoc), &d, Options{}); err != nil {
		t.Fatal(err)
	}
	if d.Kind != "a" || d.Note != "hi" || d.Name != "abc" || d.Vars["V"].Note != "n" || d.Free["A"].([]any)[0] != json.Number("1") || d.N != 3 {
		t.Fatalf("%+v", d)
	}
}

func TestDecodeRefuses(t *testing.T) {
	repl := func(old, new string) string {
		if !strings.Contains(okDoc, old) {
			t.Fatalf("%q not in okDoc", old)
		}
		return strings.Replace(okDoc, old, new, 1)
	}
	for _, c := range []struct{ name, in, path, reason string }{
		{"case variant", repl(`"name":"abc"`, `"Name":"abc"`), "Name", `differs from the known key "name" only by letter case`},
		{"Kelvin", repl(`"kind"`, `"\u212aind"`), `["\u212aind"]`, `differs from the known key "kind"`},
		{"long s in embedded", repl(`"force":"x"`, `"force":"x","note\u017f":1`), `["note\u017f"]`, "unknown key"},
		{"embedded field variant", repl(`"note":"hi"`, `"NOTE":"hi"`), "NOTE", `only by letter case`},
		{"unknown", repl(`"n":3`, `"n":3,"m":4`), "m", "unknown key"},
		{"skipped field is unknown", repl(`"n":3`, `"n":3,"Skip":"x"`), "Skip", "unknown key"},
		{"duplicate", repl(`"n":3`, `"n":3,"n":4`), "n", "duplicate key"},
		{"map fold collision", repl(`"V":{"note":"n"}`, `"V":{"note":"n"},"v":{}`), "vars.v", `same key as "V" under case folding`},
		{"free fold collision deep", repl(`{"b":null}`, `{"b":null,"B":1}`), "free.A[1].B", "under case folding"},
		{"free duplicate", repl(`"a2":true`, `"a2":true,"a2":false`), "free.a2", "duplicate key"},
		{"map value unknown key", repl(`"V":{"note":"n"}`, `"V":{"Note":"n"}`), "vars.V.Note", "only by letter case"},
		{"required", repl(`"name":"abc",`, ``), "name", "required"},
		{"required by tag", repl(`"force":"x",`, ``), "force", "required"},
		{"required null", repl(`"name":"abc"`, `"name":null`), "name", "required; got null"},
		{"enum", repl(`"kind":"a"`, `"kind":"c"`), "kind", "must be one of a, b"},
		{"pattern", repl(`"name":"abc"`, `"name":"ABC"`), "name", "pattern"},
		{"items pattern", repl(`["t1"]`, `["t1","x"]`), "tags[1]", "pattern"},
		{"maxLength", repl(`"note":"hi"`, `"note":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"`), "note", "longer than 5"},
		{"uri", repl(`"url":"https://x"`, `"url":"http://[::1"`), "url", "not a valid URI"},
		{"type", repl(`"flag":true`, `"flag":"yes"`), "flag", "expected a boolean, got a string"},
		{"type object", repl(`"ptr":null`, `"ptr":[]`), "ptr", "expected an object, got an array"},
		{"type number", repl(`"n":3`, `"n":"3"`), "n", "expected a number"},
		{"number out of range", repl(`"n":3`, `"n":1e400`), "", "cannot be decoded"},
		{"syntax", `{"name":"abc",`, "", "invalid JSON"},
		{"trailing", okDoc + ` 1`, "", "trailing data"},
		{"not an object", `"x"`, "", "expected an object, got a string"},
		{"deep", `{"free":{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}}`, "free.a" + strings.Repeat("[0]", 62), "nested deeper than 64 levels"},
		{"key with quote", repl(`"n":3`, `"n":3,"a\"b":1`), `["a\"b"]`, "unknown key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(c.in), &d, Options{})
			var e *Errors
			if !errors.As(err, &e) {
				t.Fatalf("want *Errors, got %v", err)
			}
			for _, x := range e.List {
				if x.Path == c.path && strings.Contains(x.Reason, c.reason) {
					if !reflect.DeepEqual(d, doc{}) {
						t.Fatal("the target was written")
					}
					return
				}
			}
			t.Fatalf("no %q: …%s…: %v", c.path, c.reason, e.List)
		})
	}
}

func TestDecodeErrorsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"name":"abc","kind":"a","force":"x"`)
	for i := 0; i < 1000; i++ {
		b.WriteString(`,"u` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString(`}`)
	var d doc
	err := Decode([]byte(b.String()), &d, Options{MaxErrors: 5})
	var e *Errors
	if !errors.As(err, &e) || len(e.List) != 5 || len(e.List)+e.More < 900 || !strings.Contains(e.Error(), "more)") {
		t.Fatalf("%v", err)
	}
}

func TestFoldKey(t *testing.T) {
	for _, p := range [][2]string{{"packages", "pac\u212aages"}, {"version", "ver\u017fion"}, {"Name", "nAME"}, {"straße", "STRASSE"}} {
		want := strings.EqualFold(p[0], p[1])
		if got := EqualFold(p[0], p[1]); got != want {
			t.Errorf("EqualFold(%q, %q) = %v, strings.EqualFold says %v", p[0], p[1], got, want)
		}
	}
	if !EqualFold("packages", "pac\u212aages") || !EqualFold("version", "ver\u017fion") {
		t.Fatal("Kelvin sign / long s not folded")
	}
	if Excerpt("\u212a\u212a\u212a", 2) != "\u212a\u212a…" || QuoteKey("\u212a") != `"\u212a"` {
		t.Fatal(Excerpt("\u212a\u212a\u212a", 2), QuoteKey("\u212a"))
	}
}

// FuzzDecode: Decode never panics, lists at most MaxErrors errors, and whatever it accepts
// encoding/json (which matches keys case-insensitively) decodes to the same value.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(okDoc))
	f.Add([]byte(`{"Name":"abc","name":"x","kind":"a","force":"x"}`))
	f.Add([]byte(`{"kind":"b","force":"y","name":"q","free":{"\u212a":1,"k":2}}`))
	f.Add([]byte(`{"kind":"a","force":"y","name":"q","vars":{"x":{"note":"1"},"X":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		err := Decode(b, &d, Options{MaxErrors: 3})
		if err != nil {
			var e *Errors
			if !errors.As(err, &e) || len(e.List) == 0 || len(e.List) > 3 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		var lax doc
		if err := json.Unmarshal(b, &lax); err != nil {
			t.Fatalf("accepted, but encoding/json refuses: %v", err)
		}
		// encoding/json without UseNumber: compare through a re-encoding.
		x, _ := json.Marshal(d)
		y, _ := json.Marshal(lax)
		var xm, ym any
		json.Unmarshal(x, &xm)
		json.Unmarshal(y, &ym)
		if !reflect.DeepEqual(xm, ym) {
			t.Fatalf("two meanings:\nstrict %s\nlax    %s", x, y)
		}
	})
}
