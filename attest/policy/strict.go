package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// decodeStrict decodes YAML or JSON into out (a pointer to a struct): duplicate keys and
// unknown fields are errors naming the field path (e.g. authorities[0].keyless.subjct).
func decodeStrict(data []byte, out any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty document")
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("not valid YAML: %w", err)
	}
	var generic any
	if err := json.Unmarshal(js, &generic); err != nil {
		return fmt.Errorf("not valid YAML: %w", err)
	}
	if _, ok := generic.(map[string]any); !ok {
		return errors.New("the document must be a mapping")
	}
	if err := checkFields(generic, reflect.TypeOf(out).Elem(), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("a time is not RFC 3339: %q", pe.Value)
		}
		return err
	}
	return nil
}

var timeType = reflect.TypeOf(time.Time{})

// checkFields walks v (decoded JSON) alongside t and reports the first unknown field or
// structural mismatch, with its path.
func checkFields(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	show := path
	if show == "" {
		show = "(document)"
	}
	if v == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected a mapping", show)
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: unknown field (known: %s)", join(path, k), known(fields))
			}
			if err := checkFields(m[k], ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: expected a list", show)
		}
		for i, e := range s {
			if err := checkFields(e, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected a mapping", show)
		}
		for k, e := range m {
			if err := checkFields(e, t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: expected a string", show)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: expected true or false", show)
		}
	case reflect.Int:
		f, ok := v.(float64)
		if !ok || f != float64(int(f)) {
			return fmt.Errorf("%s: expected an integer", show)
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func known(fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
