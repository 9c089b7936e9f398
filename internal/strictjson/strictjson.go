package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Defaults of Options.
const (
	DefaultMaxErrors = 20
	DefaultMaxDepth  = 64
)

// Options bound the work and the answer of Decode.
type Options struct {
	// MaxErrors is how many errors are listed (default DefaultMaxErrors); the rest are
	// only counted.
	MaxErrors int
	// MaxDepth is the deepest nesting of objects and arrays accepted (default
	// DefaultMaxDepth).
	MaxDepth int
}

// Error is one problem, at a path such as `packages[0].transport.type` ("" is the
// document itself).
type Error struct {
	Path   string
	Reason string
}

func (e Error) String() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Errors is what Decode returns for a document it refuses: the first Options.MaxErrors
// problems in document order and how many more there were.
type Errors struct {
	List []Error
	More int
	// Syntax is set when the input is not JSON at all (as opposed to JSON that breaks the
	// type's rules).
	Syntax bool
}

func (e *Errors) Error() string {
	if len(e.List) == 0 {
		return "invalid JSON document"
	}
	s := e.List[0].String()
	if n := len(e.List) - 1 + e.More; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}

// Decode decodes data, which must be exactly one JSON value, into v (a non-nil pointer)
// after checking it against v's type as the package comment describes. Every error it
// returns for bad input is an *Errors; v is left untouched unless the document passes.
func Decode(data []byte, v any, opt Options) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("strictjson: Decode needs a non-nil pointer")
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = DefaultMaxErrors
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if !utf8.Valid(data) {
		return &Errors{List: []Error{{Reason: "not valid UTF-8"}}, Syntax: true}
	}
	w := &walker{dec: json.NewDecoder(bytes.NewReader(data)), opt: opt}
	w.dec.UseNumber()
	syntax := false
	if f := w.value(rv.Type().Elem(), nil, "", 0); f != nil {
		w.add(f.path, f.reason)
		syntax = f.syntax
	} else if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		w.add("", "trailing data after the JSON value")
		syntax = true
	}
	if len(w.errs) > 0 {
		return &Errors{List: w.errs, More: w.more, Syntax: syntax}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	nv := reflect.New(rv.Type().Elem())
	if err := dec.Decode(nv.Interface()); err != nil {
		// The walk accepted what encoding/json refuses (a number out of range for its
		// field): still the client's document that is wrong.
		return &Errors{List: []Error{{Reason: "cannot be decoded: " + Excerpt(err.Error(), 200)}}}
	}
	rv.Elem().Set(nv.Elem())
	return nil
}

// fatal is an error the walk cannot go on after: a syntax error, or nesting too deep.
type fatal struct {
	path, reason string
	syntax       bool
}

type walker struct {
	dec  *json.Decoder
	opt  Options
	errs []Error
	more int
}

func (w *walker) add(path, reason string) {
	if len(w.errs) < w.opt.MaxErrors {
		w.errs = append(w.errs, Error{Path: path, Reason: reason})
		return
	}
	w.more++
}

func (w *walker) token(path string) (json.Token, *fatal) {
	tok, err := w.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &fatal{path, "invalid JSON: unexpected end of input", true}
		}
		return nil, &fatal{path, "invalid JSON: " + Excerpt(err.Error(), 200), true}
	}
	return tok, nil
}

// value reads one value of type t (the type's rules in c) at path.
func (w *walker) value(t reflect.Type, c *constraints, path string, depth int) *fatal {
	tok, f := w.token(path)
	if f != nil {
		return f
	}
	return w.valueTok(tok, t, c, path, depth)
}

func (w *walker) valueTok(tok json.Token, t reflect.Type, c *constraints, path string, depth int) *fatal {
	if tok == nil { // null
		if c != nil && c.required && t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
			w.add(path, "required; got null")
		}
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		if depth+1 > w.opt.MaxDepth {
			return &fatal{path: path, reason: fmt.Sprintf("nested deeper than %d levels", w.opt.MaxDepth)}
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return w.anyTok(tok, path, depth)
	case reflect.Struct:
		if tok != json.Delim('{') {
			w.add(path, "expected an object, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		return w.object(structInfoOf(t), path, depth+1)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return &fatal{path: path, reason: "strictjson: map key type " + t.Key().String() + " is not supported"}
		}
		if tok != json.Delim('{') {
			w.add(path, "expected an object, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		return w.mapObject(t.Elem(), path, depth+1)
	case reflect.Slice, reflect.Array:
		if tok != json.Delim('[') {
			w.add(path, "expected an array, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		var item *constraints
		if c != nil && c.itemsPattern != nil {
			item = &constraints{maxLength: -1, pattern: c.itemsPattern, patternText: c.itemsPatternText}
		}
		for i := 0; w.dec.More(); i++ {
			if f := w.value(t.Elem(), item, path+"["+strconv.Itoa(i)+"]", depth+1); f != nil {
				return f
			}
		}
		_, f := w.token(path)
		return f
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			w.add(path, "expected a string, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		if c != nil {
			if r := c.check(s); r != "" {
				w.add(path, r)
			}
		}
		return nil
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			w.add(path, "expected a boolean, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if _, ok := tok.(json.Number); !ok {
			w.add(path, "expected a number, got "+kind(tok))
			return w.skip(tok, path, depth)
		}
		return nil
	}
	return &fatal{path: path, reason: "strictjson: type " + t.String() + " is not supported"}
}

// members reads the members of an object (after its '{') up to and including its '}': every
// key goes through the key rules (duplicates, case-fold collisions), then value reads the
// member's value. It returns the object's keys.
func (w *walker) members(path string, value func(k, kp string) *fatal) (keySet, *fatal) {
	keys := newKeySet()
	for w.dec.More() {
		tok, f := w.token(path)
		if f != nil {
			return keys, f
		}
		k, _ := tok.(string)
		kp := join(path, k)
		w.checkKey(keys, k, kp)
		if f := value(k, kp); f != nil {
			return keys, f
		}
	}
	_, f := w.token(path)
	return keys, f
}

// object reads the members of an object with fixed fields (after its '{').
func (w *walker) object(si *structInfo, path string, depth int) *fatal {
	keys, f := w.members(path, func(k, kp string) *fatal {
		fi, ok := si.byName[k]
		if !ok {
			if known, ok := si.byFold[foldKey(k)]; ok {
				w.add(kp, "differs from the known key "+QuoteKey(known)+" only by letter case; keys are matched exactly")
			} else {
				w.add(kp, "unknown key")
			}
			return w.skipValue(kp, depth)
		}
		return w.value(fi.typ, &fi.c, kp, depth)
	})
	if f != nil {
		return f
	}
	for _, fi := range si.fields {
		if fi.c.required && !keys.exact[fi.name] {
			w.add(join(path, fi.name), "required")
		}
	}
	return nil
}

// mapObject reads an object whose keys are free (a Go map) with values of type elem.
func (w *walker) mapObject(elem reflect.Type, path string, depth int) *fatal {
	_, f := w.members(path, func(_, kp string) *fatal { return w.value(elem, nil, kp, depth) })
	return f
}

// anyTok reads a free-form value: only the key rules and the depth apply.
func (w *walker) anyTok(tok json.Token, path string, depth int) *fatal {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		_, f := w.members(path, func(_, kp string) *fatal { return w.skipValue(kp, depth+1) })
		return f
	case '[':
		for i := 0; w.dec.More(); i++ {
			if f := w.skipValue(path+"["+strconv.Itoa(i)+"]", depth+1); f != nil {
				return f
			}
		}
	default:
		return &fatal{path, "invalid JSON: unexpected " + string(d), true}
	}
	_, f := w.token(path)
	return f
}

// skipValue reads a value whose content is not checked beyond the key rules.
func (w *walker) skipValue(path string, depth int) *fatal {
	tok, f := w.token(path)
	if f != nil {
		return f
	}
	return w.skip(tok, path, depth)
}

func (w *walker) skip(tok json.Token, path string, depth int) *fatal {
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') && depth+1 > w.opt.MaxDepth {
		return &fatal{path: path, reason: fmt.Sprintf("nested deeper than %d levels", w.opt.MaxDepth)}
	}
	return w.anyTok(tok, path, depth)
}

// keySet is the keys seen in one object, exactly and case-folded.
type keySet struct {
	exact map[string]bool
	fold  map[string]string
}

func newKeySet() keySet { return keySet{exact: map[string]bool{}, fold: map[string]string{}} }

func (w *walker) checkKey(ks keySet, k, kp string) {
	if ks.exact[k] {
		w.add(kp, "duplicate key")
		return
	}
	ks.exact[k] = true
	fk := foldKey(k)
	if prev, ok := ks.fold[fk]; ok {
		w.add(kp, "same key as "+QuoteKey(prev)+" under case folding; keys that differ only by letter case are refused")
		return
	}
	ks.fold[fk] = k
}

func kind(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "an array"
	}
	return "something else"
}

// foldKey maps s to a canonical form under Unicode simple case folding: two strings have
// the same foldKey exactly when strings.EqualFold says they are equal.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// EqualFold reports whether a and b are equal under Unicode simple case folding (what
// encoding/json's field matching uses).
func EqualFold(a, b string) bool { return foldKey(a) == foldKey(b) }

var plainKey = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// join is the path of key k inside the object at path.
func join(path, k string) string {
	if len(k) <= 64 && plainKey.MatchString(k) {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	return path + "[" + QuoteKey(k) + "]"
}

// QuoteKey quotes a key for an error message: ASCII only (so that a Kelvin sign shows as
// \u212a) and at most 64 characters of it.
func QuoteKey(k string) string { return strconv.QuoteToASCII(Excerpt(k, 64)) }

// Excerpt returns s cut to at most n runes, marked with "…" when cut.
func Excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// constraints are a field's huma-style validation tags.
type constraints struct {
	required         bool
	minLength        int
	maxLength        int // -1: none
	pattern          *regexp.Regexp
	patternText      string
	itemsPattern     *regexp.Regexp
	itemsPatternText string
	enum             []string
	uri              bool
}

func (c *constraints) check(s string) string {
	if c.minLength > 0 || c.maxLength >= 0 {
		n := utf8.RuneCountInString(s)
		if n < c.minLength {
			return fmt.Sprintf("shorter than %d characters", c.minLength)
		}
		if c.maxLength >= 0 && n > c.maxLength {
			return fmt.Sprintf("longer than %d characters", c.maxLength)
		}
	}
	if c.pattern != nil && !c.pattern.MatchString(s) {
		return "does not match the pattern " + c.patternText
	}
	if len(c.enum) > 0 {
		found := false
		for _, e := range c.enum {
			if s == e {
				found = true
				break
			}
		}
		if !found {
			return "must be one of " + strings.Join(c.enum, ", ")
		}
	}
	if c.uri {
		if _, err := url.Parse(s); err != nil {
			return "not a valid URI (RFC 3986)"
		}
	}
	return ""
}

type fieldInfo struct {
	name string
	typ  reflect.Type
	c    constraints
}

type structInfo struct {
	fields []*fieldInfo
	byName map[string]*fieldInfo
	byFold map[string]string
}

var structCache sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]*fieldInfo{}, byFold: map[string]string{}}
	collectFields(t, si, map[reflect.Type]bool{})
	for _, f := range si.fields {
		si.byName[f.name] = f
		si.byFold[foldKey(f.name)] = f.name
	}
	structCache.Store(t, si)
	return si
}

// collectFields lists t's JSON fields as encoding/json sees them: embedded structs without
// a json name are flattened, and an outer field hides an inner one of the same name.
func collectFields(t reflect.Type, si *structInfo, visiting map[reflect.Type]bool) {
	if visiting[t] {
		return
	}
	visiting[t] = true
	defer delete(visiting, t)
	have := func(name string) bool {
		for _, f := range si.fields {
			if f.name == name {
				return true
			}
		}
		return false
	}
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if have(name) {
			continue
		}
		si.fields = append(si.fields, &fieldInfo{name: name, typ: f.Type, c: constraintsOf(f, opts)})
	}
	for _, et := range embedded {
		inner := &structInfo{}
		collectFields(et, inner, visiting)
		for _, f := range inner.fields {
			if !have(f.name) {
				si.fields = append(si.fields, f)
			}
		}
	}
}

func constraintsOf(f reflect.StructField, jsonOpts string) constraints {
	c := constraints{maxLength: -1, required: !strings.Contains(jsonOpts, "omitempty") && !strings.Contains(jsonOpts, "omitzero")}
	if v, ok := f.Tag.Lookup("required"); ok {
		c.required = v == "true"
	}
	if v, err := strconv.Atoi(f.Tag.Get("minLength")); err == nil {
		c.minLength = v
	}
	if v, err := strconv.Atoi(f.Tag.Get("maxLength")); err == nil {
		c.maxLength = v
	}
	if p := f.Tag.Get("pattern"); p != "" {
		c.pattern, c.patternText = regexp.MustCompile(p), p
	}
	if p := f.Tag.Get("items.pattern"); p != "" {
		c.itemsPattern, c.itemsPatternText = regexp.MustCompile(p), p
	}
	if e := f.Tag.Get("enum"); e != "" {
		c.enum = strings.Split(e, ",")
	}
	switch f.Tag.Get("format") {
	case "uri", "uri-reference", "iri", "iri-reference":
		c.uri = true
	}
	return c
}
