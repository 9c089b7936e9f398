package toolmanifest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, in, why string
	}{
		{"not json", `{"tools":[`, "unexpected end of input"},
		{"top-level array", `[]`, "a manifest is a JSON object"},
		{"no tools", `{"x":1}`, `no "tools" member`},
		{"tools not array", `{"tools":{}}`, `"tools" must be an array`},
		{"case-variant Tools", `{"tools":[],"Tools":[{"name":"x"}]}`, `case-variant duplicate of "tools"`},
		{"duplicate key in tool", `{"tools":[{"name":"a","description":"x","description":"y"}]}`, `duplicate member name "description"`},
		{"duplicate key deep", `{"tools":[{"name":"a","inputSchema":{"type":"object","type":"string"}}]}`, `duplicate member name "type"`},
		{"case-variant description", `{"tools":[{"name":"a","description":"x","DESCRIPTION":"y"}]}`, `case-variant duplicate of "description"`},
		{"case-variant name", `{"tools":[{"name":"a","Name":"b"}]}`, `case-variant duplicate of "name"`},
		{"case-variant annotation", `{"tools":[{"name":"a","annotations":{"readOnlyHint":true,"readonlyhint":false}}]}`, `case-variant duplicate of "readOnlyHint"`},
		{"case-variant schema keyword", `{"tools":[{"name":"a","inputSchema":{"type":"object","properties":{"p":{"description":"x","Description":"y"}}}}]}`, `case-variant duplicate of "description"`},
		{"lone high surrogate", `{"tools":[{"name":"a","description":"\ud800"}]}`, "lone surrogate"},
		{"lone low surrogate", `{"tools":[{"name":"a","description":"\udc00x"}]}`, "lone surrogate"},
		{"high then non-low", `{"tools":[{"name":"a","description":"\ud800\u0041"}]}`, "lone surrogate"},
		{"invalid utf-8", "{\"tools\":[{\"name\":\"a\",\"description\":\"\xff\"}]}", "invalid UTF-8"},
		{"raw control char", "{\"tools\":[{\"name\":\"a\",\"description\":\"\x01\"}]}", "control character"},
		{"remote ref", `{"tools":[{"name":"a","inputSchema":{"type":"object","properties":{"p":{"$ref":"https://evil.example/s.json"}}}}]}`, `non-local $ref "https://evil.example/s.json"`},
		{"relative file ref", `{"tools":[{"name":"a","inputSchema":{"$defs":{"x":{"type":"string"}},"type":"object","properties":{"p":{"$ref":"other.json#/x"}}}}]}`, "non-local $ref"},
		{"ref in output schema", `{"tools":[{"name":"a","outputSchema":{"allOf":[{"$ref":"urn:x"}]}}]}`, "non-local $ref"},
		{"no name", `{"tools":[{"description":"x"}]}`, `tool has no "name"`},
		{"empty name", `{"tools":[{"name":""}]}`, "tool name is empty"},
		{"name not string", `{"tools":[{"name":1}]}`, `"name" must be a JSON string`},
		{"description not string", `{"tools":[{"name":"a","description":["x"]}]}`, `"description" must be a JSON string`},
		{"duplicate tool names", `{"tools":[{"name":"a"},{"name":"a"}]}`, `duplicate tool name "a"`},
		{"tool not object", `{"tools":["a"]}`, "a tool is a JSON object"},
		{"huge number", `{"tools":[{"name":"a","x":1e400}]}`, "not representable"},
		{"leading zero", `{"tools":[{"name":"a","x":01}]}`, "expected ',' or '}'"},
		{"trailing data", `{"tools":[]} x`, "unexpected data after"},
		{"bad escape", `{"tools":[{"name":"a\q"}]}`, `invalid escape`},
		{"too deep", `{"tools":[{"name":"a","_meta":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}]}`, "nesting deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("accepted %s", c.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), c.why) {
				t.Errorf("error %q does not say %q", err, c.why)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct{ name, in string }{
		{"local refs", `{"tools":[{"name":"a","inputSchema":{"$defs":{"x":{"type":"string"}},"type":"object","properties":{"p":{"$ref":"#/$defs/x"}}}}]}`},
		{"properties differing by case are data", `{"tools":[{"name":"a","inputSchema":{"type":"object","properties":{"path":{"type":"string"},"Path":{"type":"string"}}}}]}`},
		{"property named description and Description", `{"tools":[{"name":"a","inputSchema":{"type":"object","properties":{"description":{},"Description":{}}}}]}`},
		{"ref-looking data in default", `{"tools":[{"name":"a","inputSchema":{"type":"object","default":{"$ref":"https://x"}}}]}`},
		{"unknown fields kept", `{"tools":[{"name":"a","vendorThing":{"Vendor":1,"vendor":2}}],"nextCursor":"c"}`},
		{"surrogate pair", `{"tools":[{"name":"a","description":"\ud83d\ude00"}]}`},
		{"Description alone", `{"tools":[{"name":"a","Description":"only this one"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if len(m.Tools) != 1 || m.Tools[0].Name != "a" {
				t.Fatalf("tools = %+v", m.Tools)
			}
		})
	}
}

func TestUnknownFieldsChangeDigest(t *testing.T) {
	a, err := Parse([]byte(`{"tools":[{"name":"a","description":"d"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{
		`{"tools":[{"name":"a","description":"d","x":1}]}`,
		`{"tools":[{"name":"a","description":"d","_meta":{}}]}`,
		`{"tools":[{"name":"a","description":"d","annotations":{"readOnlyHint":false}}]}`,
		`{"tools":[{"name":"a","description":"d "}]}`,
		`{"tools":[{"name":"a","description":"d\u200b"}]}`,
		`{"tools":[{"name":"a","description":"d"},{"name":"b"}]}`,
	} {
		b, err := Parse([]byte(variant))
		if err != nil {
			t.Fatal(err)
		}
		if a.Digest == b.Digest {
			t.Errorf("manifest digest did not change for %s", variant)
		}
	}
	// Member order and insignificant whitespace do not matter.
	c, _ := Parse([]byte("{\"tools\":[ {\"description\" : \"d\",\n \"name\":\"a\"} ]}"))
	if c == nil || c.Digest != a.Digest {
		t.Errorf("reordering members changed the digest")
	}
}

func TestFromToolsRejectsSplicing(t *testing.T) {
	_, err := FromTools([]json.RawMessage{json.RawMessage(`{"name":"a"}],"x":[{"name":"b"}`)})
	if err == nil || !strings.Contains(err.Error(), "unexpected data") {
		t.Fatalf("want splicing rejected, got %v", err)
	}
}
