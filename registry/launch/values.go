package launch

import (
	"regexp"
	"strconv"
	"strings"
)

// A value is one fixed text the publisher wrote, and where.
type value struct {
	text string
	ptr  string
}

// maxAlternatives bounds the readings of one input (its value, or its default and choices,
// times its variables' readings).
const maxAlternatives = 16

var placeholderRE = regexp.MustCompile(`\{[^{}\s]{1,128}\}`)

// alternatives lists the fixed texts an input can take, with {placeholders} replaced by
// their variables' fixed texts. An input whose value is left to the user has none. ptr is the
// input's pointer.
func (in Input) alternatives(ptr string) []value {
	var base []value
	if in.Value != "" {
		base = []value{{in.Value, ptr + "/value"}}
	} else {
		if in.Default != "" {
			base = append(base, value{in.Default, ptr + "/default"})
		}
		for i, c := range in.Choices {
			base = append(base, value{c, ptr + "/choices/" + strconv.Itoa(i)})
		}
	}
	var out []value
	for _, b := range base {
		out = append(out, expand(b, in.Variables, ptr)...)
		if len(out) >= maxAlternatives {
			return out[:maxAlternatives]
		}
	}
	return out
}

// expand substitutes each {name} whose variable has fixed texts; others stay as written (the
// user fills them in).
func expand(v value, vars map[string]Input, ptr string) []value {
	out := []value{v}
	for _, loc := range placeholderRE.FindAllString(v.text, 8) {
		vi, ok := vars[loc[1:len(loc)-1]]
		if !ok {
			continue
		}
		alts := vi.alternatives(ptr + "/variables/" + escapePointer(loc[1:len(loc)-1]))
		if len(alts) == 0 {
			continue
		}
		var next []value
		for _, o := range out {
			for _, a := range alts {
				p := o.ptr
				if o.text == loc { // the whole value is the variable: point at it
					p = a.ptr
				}
				next = append(next, value{strings.ReplaceAll(o.text, loc, a.text), p})
				if len(next) >= maxAlternatives {
					break
				}
			}
		}
		out = next
	}
	return out
}

// userInput reports whether s is nothing but {placeholders} the user fills in (and blanks).
func userInput(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.TrimSpace(placeholderRE.ReplaceAllString(s, "")) == ""
}

// token is one argv word, with the value it was split from.
type token struct {
	text string
	ptr  string
	raw  string // the whole value it came from
}

// argReadings lists the readings of one argument as argv words: for a named argument its
// name's words followed by its value's, for a positional one its value's words; an argument
// the user fills in reads as a placeholder word.
func argReadings(a Argument, ptr string) [][]token {
	var name []token
	if a.Type == "named" {
		words := []string{a.Name}
		if strings.ContainsAny(a.Name, " \t\r\n") {
			words = SplitWords(a.Name)
		}
		for _, w := range words {
			name = append(name, token{w, ptr + "/name", a.Name})
		}
	}
	alts := a.alternatives(ptr)
	if len(alts) == 0 {
		hint := a.ValueHint
		if hint == "" {
			hint = "value"
		}
		if a.Type == "named" && strings.EqualFold(a.Format, "boolean") {
			return [][]token{name}
		}
		if a.Type == "named" && strings.Contains(a.Name, "=") {
			return [][]token{name}
		}
		return [][]token{append(append([]token(nil), name...), token{"{" + hint + "}", ptr, ""})}
	}
	var out [][]token
	for _, v := range alts {
		r := append([]token(nil), name...)
		words := []string{v.text}
		if strings.ContainsAny(v.text, " \t\r\n") {
			// One argv element, unless a client joins arguments into a command line: the lint
			// reads it both ways (the whole value is judged as text elsewhere).
			words = SplitWords(v.text)
		}
		if len(words) == 0 {
			words = []string{""}
		}
		for _, w := range words {
			r = append(r, token{w, v.ptr, v.text})
		}
		out = append(out, r)
	}
	return out
}

// maxReadings bounds the argv readings linted per argument list.
const maxReadings = 64

// argvReadings lists argv readings of an argument list: every argument at its first
// reading, then each other reading of each argument with the rest at their first.
func argvReadings(args []Argument, at string) [][]token {
	per := make([][][]token, len(args))
	for i, a := range args {
		per[i] = argReadings(a, at+"/"+strconv.Itoa(i))
	}
	join := func(pick func(i int) []token) []token {
		var out []token
		for i := range per {
			out = append(out, pick(i)...)
		}
		return out
	}
	out := [][]token{join(func(i int) []token { return per[i][0] })}
	for i := range per {
		for j := 1; j < len(per[i]) && len(out) < maxReadings; j++ {
			out = append(out, join(func(k int) []token {
				if k == i {
					return per[k][j]
				}
				return per[k][0]
			}))
		}
	}
	return out
}
