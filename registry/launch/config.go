package launch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is wrapped by errors about a launch configuration that cannot be read.
var ErrMalformed = errors.New("malformed launch configuration")

// Input is the official schema's Input (with its variables): a fixed value, a default, a
// list of choices, or nothing (the user supplies it).
type Input struct {
	Value     string
	Default   string
	Choices   []string
	IsSecret  bool
	Format    string
	Variables map[string]Input
}

// Argument is the official schema's Argument: named ("--flag" with an optional value) or
// positional.
type Argument struct {
	Input
	Type      string
	Name      string
	ValueHint string
}

// KeyValue is an environment variable or an HTTP header.
type KeyValue struct {
	Input
	Name string
}

// Package is the launch configuration of one entry of packages.
type Package struct {
	RegistryType     string
	Identifier       string
	RuntimeHint      string
	RuntimeArguments []Argument
	PackageArguments []Argument
	Environment      []KeyValue
	// Headers are the package transport's headers (streamable-http and sse).
	Headers []KeyValue
}

// Remote is one entry of remotes.
type Remote struct {
	Type    string
	URL     string
	Headers []KeyValue
}

// Config is the launch configuration of a server.json.
type Config struct {
	Packages []Package
	Remotes  []Remote
}

// Bounds on what is read (server.json itself is bounded by the registry).
const (
	maxArguments = 256 // per list
	maxChoices   = 64
	maxVariables = 64
)

// Parse reads the launch configuration of a server.json. Keys are matched exactly (case
// sensitively), as the official schema spells them; other keys are ignored. A launch field
// of the wrong shape is an error wrapping ErrMalformed that names its JSON pointer.
func Parse(serverJSON []byte) (*Config, error) {
	root, err := object(serverJSON, "")
	if err != nil {
		return nil, err
	}
	cfg := &Config{}
	pkgs, err := array(root["packages"], "/packages")
	if err != nil {
		return nil, err
	}
	for i, raw := range pkgs {
		at := "/packages/" + strconv.Itoa(i)
		p, err := parsePackage(raw, at)
		if err != nil {
			return nil, err
		}
		cfg.Packages = append(cfg.Packages, p)
	}
	remotes, err := array(root["remotes"], "/remotes")
	if err != nil {
		return nil, err
	}
	for i, raw := range remotes {
		at := "/remotes/" + strconv.Itoa(i)
		m, err := object(raw, at)
		if err != nil {
			return nil, err
		}
		r := Remote{}
		if r.Type, err = str(m, "type", at); err != nil {
			return nil, err
		}
		if r.URL, err = str(m, "url", at); err != nil {
			return nil, err
		}
		if r.Headers, err = keyValues(m["headers"], at+"/headers"); err != nil {
			return nil, err
		}
		cfg.Remotes = append(cfg.Remotes, r)
	}
	return cfg, nil
}

func parsePackage(raw json.RawMessage, at string) (Package, error) {
	m, err := object(raw, at)
	if err != nil {
		return Package{}, err
	}
	p := Package{}
	for key, dst := range map[string]*string{"registryType": &p.RegistryType, "identifier": &p.Identifier, "runtimeHint": &p.RuntimeHint} {
		if *dst, err = str(m, key, at); err != nil {
			return Package{}, err
		}
	}
	if p.RuntimeArguments, err = arguments(m["runtimeArguments"], at+"/runtimeArguments"); err != nil {
		return Package{}, err
	}
	if p.PackageArguments, err = arguments(m["packageArguments"], at+"/packageArguments"); err != nil {
		return Package{}, err
	}
	if p.Environment, err = keyValues(m["environmentVariables"], at+"/environmentVariables"); err != nil {
		return Package{}, err
	}
	if t, ok := m["transport"]; ok && !isNull(t) {
		tm, err := object(t, at+"/transport")
		if err != nil {
			return Package{}, err
		}
		if p.Headers, err = keyValues(tm["headers"], at+"/transport/headers"); err != nil {
			return Package{}, err
		}
	}
	return p, nil
}

func arguments(raw json.RawMessage, at string) ([]Argument, error) {
	items, err := array(raw, at)
	if err != nil {
		return nil, err
	}
	if len(items) > maxArguments {
		return nil, malformed(at, "more than %d arguments", maxArguments)
	}
	out := make([]Argument, 0, len(items))
	for i, it := range items {
		ip := at + "/" + strconv.Itoa(i)
		m, err := object(it, ip)
		if err != nil {
			return nil, err
		}
		a := Argument{}
		if a.Input, err = input(m, ip, true); err != nil {
			return nil, err
		}
		if a.Type, err = str(m, "type", ip); err != nil {
			return nil, err
		}
		if a.Name, err = str(m, "name", ip); err != nil {
			return nil, err
		}
		if a.ValueHint, err = str(m, "valueHint", ip); err != nil {
			return nil, err
		}
		switch a.Type {
		case "named":
			if a.Name == "" {
				return nil, malformed(ip+"/name", "a named argument needs a name")
			}
		case "positional":
		default:
			return nil, malformed(ip+"/type", "must be \"named\" or \"positional\", got %q", a.Type)
		}
		out = append(out, a)
	}
	return out, nil
}

func keyValues(raw json.RawMessage, at string) ([]KeyValue, error) {
	items, err := array(raw, at)
	if err != nil {
		return nil, err
	}
	if len(items) > maxArguments {
		return nil, malformed(at, "more than %d entries", maxArguments)
	}
	out := make([]KeyValue, 0, len(items))
	for i, it := range items {
		ip := at + "/" + strconv.Itoa(i)
		m, err := object(it, ip)
		if err != nil {
			return nil, err
		}
		kv := KeyValue{}
		if kv.Input, err = input(m, ip, true); err != nil {
			return nil, err
		}
		if kv.Name, err = str(m, "name", ip); err != nil {
			return nil, err
		}
		out = append(out, kv)
	}
	return out, nil
}

func input(m map[string]json.RawMessage, at string, withVariables bool) (Input, error) {
	in := Input{}
	var err error
	for key, dst := range map[string]*string{"value": &in.Value, "default": &in.Default, "format": &in.Format} {
		if *dst, err = str(m, key, at); err != nil {
			return Input{}, err
		}
	}
	if raw, ok := m["isSecret"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &in.IsSecret); err != nil {
			return Input{}, malformed(at+"/isSecret", "not a boolean")
		}
	}
	choices, err := array(m["choices"], at+"/choices")
	if err != nil {
		return Input{}, err
	}
	if len(choices) > maxChoices {
		return Input{}, malformed(at+"/choices", "more than %d choices", maxChoices)
	}
	for i, c := range choices {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return Input{}, malformed(at+"/choices/"+strconv.Itoa(i), "not a string")
		}
		in.Choices = append(in.Choices, s)
	}
	raw, ok := m["variables"]
	if !ok || isNull(raw) {
		return in, nil
	}
	if !withVariables {
		return Input{}, malformed(at+"/variables", "variables cannot nest")
	}
	vm, err := object(raw, at+"/variables")
	if err != nil {
		return Input{}, err
	}
	if len(vm) > maxVariables {
		return Input{}, malformed(at+"/variables", "more than %d variables", maxVariables)
	}
	in.Variables = map[string]Input{}
	for name, vraw := range vm {
		vp := at + "/variables/" + escapePointer(name)
		vo, err := object(vraw, vp)
		if err != nil {
			return Input{}, err
		}
		if in.Variables[name], err = input(vo, vp, false); err != nil {
			return Input{}, err
		}
	}
	return in, nil
}

// object decodes a JSON object keeping keys exactly as written; a duplicate key is an error.
func object(raw json.RawMessage, at string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(at, "not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed(at, "not an object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, malformed(at, "not JSON")
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed(at, "not JSON")
		}
		if _, dup := out[k]; dup {
			return nil, malformed(at, "duplicate key %q", k)
		}
		out[k] = v
	}
	return out, nil
}

// array decodes an optional JSON array (absent or null: empty).
func array(raw json.RawMessage, at string) ([]json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, malformed(at, "not an array")
	}
	return out, nil
}

func str(m map[string]json.RawMessage, key, at string) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformed(at+"/"+key, "not a string")
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func malformed(at, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, at, fmt.Sprintf(format, a...))
}

// escapePointer escapes one RFC 6901 reference token.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
