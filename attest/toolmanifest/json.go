package toolmanifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a Value.
type Kind int

// The JSON types.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	default:
		return "object"
	}
}

// Value is a parsed JSON value that keeps object members in their served order and the
// byte range it was parsed from.
type Value struct {
	Kind    Kind
	Bool    bool
	Str     string // the decoded string, or the number's literal text
	Members []Member
	Elems   []*Value
	// Start and End delimit the value in the source bytes.
	Start, End int
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Key   string
	Value *Value
}

// Get returns the value of the member named key, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for _, m := range v.Members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 128

// SyntaxError is a JSON text that the strict parser refuses, with the byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

type parser struct {
	src []byte
	pos int
}

// parseJSON parses one JSON text strictly: valid UTF-8 only, no lone surrogates, no
// duplicate member names, finite numbers only, nothing after the value but whitespace.
func parseJSON(src []byte) (*Value, error) {
	p := &parser{src: src}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(p.src) {
		return nil, p.errf("unexpected data after the JSON value")
	}
	return v, nil
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*Value, error) {
	if depth > maxDepth {
		return nil, p.errf("nesting deeper than %d", maxDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errf("unexpected end of input")
	}
	start := p.pos
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Str: s, Start: start, End: p.pos}, nil
	case c == 't':
		return p.literal("true", &Value{Kind: Bool, Bool: true})
	case c == 'f':
		return p.literal("false", &Value{Kind: Bool})
	case c == 'n':
		return p.literal("null", &Value{Kind: Null})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errf("unexpected character %q", rune(c))
	}
}

func (p *parser) literal(word string, v *Value) (*Value, error) {
	if !strings.HasPrefix(string(p.src[p.pos:min(len(p.src), p.pos+len(word))]), word) {
		return nil, p.errf("invalid literal")
	}
	v.Start = p.pos
	p.pos += len(word)
	v.End = p.pos
	return v, nil
}

func (p *parser) object(depth int) (*Value, error) {
	v := &Value{Kind: Object, Start: p.pos}
	p.pos++ // {
	seen := map[string]bool{}
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		v.End = p.pos
		return v, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.errf("expected a member name")
		}
		keyPos := p.pos
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, &SyntaxError{Offset: keyPos, Msg: fmt.Sprintf("duplicate member name %q", key)}
		}
		seen[key] = true
		p.ws()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errf("expected ':' after member name")
		}
		p.pos++
		p.ws()
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, Member{Key: key, Value: val})
		p.ws()
		if p.pos >= len(p.src) {
			return nil, p.errf("unexpected end of input in object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			v.End = p.pos
			return v, nil
		default:
			return nil, p.errf("expected ',' or '}' in object")
		}
	}
}

func (p *parser) array(depth int) (*Value, error) {
	v := &Value{Kind: Array, Start: p.pos}
	p.pos++ // [
	p.ws()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		v.End = p.pos
		return v, nil
	}
	for {
		p.ws()
		e, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Elems = append(v.Elems, e)
		p.ws()
		if p.pos >= len(p.src) {
			return nil, p.errf("unexpected end of input in array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			v.End = p.pos
			return v, nil
		default:
			return nil, p.errf("expected ',' or ']' in array")
		}
	}
}

func (p *parser) number() (*Value, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errf("invalid number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errf("invalid number: no digits after '.'")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errf("invalid number: no digits in exponent")
		}
	}
	lit := string(p.src[start:p.pos])
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("number %s is not representable as an IEEE 754 double", lit)}
	}
	return &Value{Kind: Number, Str: lit, Start: start, End: p.pos}, nil
}

// str parses a string at p.pos (which is '"') and returns its decoded value.
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.errf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", p.errf("control character U+%04X in string must be escaped", c)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errf("invalid UTF-8 in string")
			}
			b.WriteRune(r)
			p.pos += size
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.src) {
		return p.errf("unterminated escape")
	}
	e := p.src[p.pos+1]
	simple := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
	if r, ok := simple[e]; ok {
		b.WriteByte(r)
		p.pos += 2
		return nil
	}
	if e != 'u' {
		return p.errf("invalid escape \\%c", e)
	}
	r1, err := p.hex4(p.pos + 2)
	if err != nil {
		return err
	}
	switch {
	case utf16.IsSurrogate(r1) && r1 < 0xDC00:
		// High surrogate: must be followed by \u and a low surrogate.
		if p.pos+12 > len(p.src) || p.src[p.pos+6] != '\\' || p.src[p.pos+7] != 'u' {
			return p.errf("lone surrogate \\u%04X", r1)
		}
		r2, err := p.hex4(p.pos + 8)
		if err != nil {
			return err
		}
		if r2 < 0xDC00 || r2 > 0xDFFF {
			return p.errf("lone surrogate \\u%04X", r1)
		}
		b.WriteRune(utf16.DecodeRune(r1, r2))
		p.pos += 12
	case utf16.IsSurrogate(r1):
		return p.errf("lone surrogate \\u%04X", r1)
	default:
		b.WriteRune(r1)
		p.pos += 6
	}
	return nil
}

func (p *parser) hex4(at int) (rune, error) {
	if at+4 > len(p.src) {
		return 0, p.errf("truncated \\u escape")
	}
	var r rune
	for _, c := range p.src[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, p.errf("invalid \\u escape")
		}
	}
	return r, nil
}
