package launch

import "strings"

// maxWords bounds what one value is split into.
const maxWords = 512

// SplitWords splits s into words as a POSIX shell would before expansion: on unquoted
// blanks, honouring single quotes, double quotes and backslash escapes. An unterminated quote
// runs to the end. Clients pass each argument as one argv element, but some join them into a
// command line; splitting is how the lint sees both readings.
func SplitWords(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord && len(out) < maxWords {
			out = append(out, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			inWord = true
			i = singleQuoted(s, i, &cur)
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out
}

// TokKind is the kind of a shell token.
type TokKind int

const (
	// Word is a word (quotes removed).
	Word TokKind = iota
	// Op is a control operator or the opening of a substitution: | || & && ; ( ) $( ` <( >(
	// and redirections < > >> <<.
	Op
)

// Tok is one shell token.
type Tok struct {
	Kind TokKind
	Text string
}

// Lex reads s as a shell command line into words and operators. Text inside single quotes
// is literal; inside double quotes, $( and backticks still open substitutions, as in a
// shell. It never fails: malformed input yields the tokens it could read.
func Lex(s string) []Tok {
	var out []Tok
	var cur strings.Builder
	inWord := false
	emit := func() {
		if inWord && len(out) < maxWords {
			out = append(out, Tok{Word, cur.String()})
		}
		cur.Reset()
		inWord = false
	}
	op := func(o string) {
		emit()
		if len(out) < maxWords {
			out = append(out, Tok{Op, o})
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			emit()
		case c == '\n':
			op(";")
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			inWord = true
			i = singleQuoted(s, i, &cur)
		case c == '"':
			// Substitutions inside double quotes run; the quoted text around them stays one word.
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if s[i] == '`' || (s[i] == '$' && i+1 < len(s) && s[i+1] == '(') {
					// Re-lex the rest of the quoted text as a substitution.
					end := strings.IndexByte(s[i:], '"')
					if end < 0 {
						end = len(s) - i
					}
					inner := s[i : i+end]
					emit()
					out = append(out, Lex(inner)...)
					if len(out) > maxWords {
						out = out[:maxWords]
					}
					i += end - 1
					continue
				}
				cur.WriteByte(s[i])
			}
		case c == '$' && next == '(':
			op("$(")
			i++
		case c == '`':
			op("`")
		case (c == '<' || c == '>') && next == '(':
			op(string(c) + "(")
			i++
		case c == '|' || c == '&':
			if next == c {
				op(string([]byte{c, c}))
				i++
			} else {
				op(string(c))
			}
		case c == ';' || c == '(' || c == ')':
			op(string(c))
		case c == '<' || c == '>':
			if next == c {
				op(string([]byte{c, c}))
				i++
			} else {
				op(string(c))
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	emit()
	return out
}

// singleQuoted copies the literal text of the single-quoted string that opens at s[i] into
// cur and returns the index of its closing quote (len(s) when it is unterminated: it runs to
// the end).
func singleQuoted(s string, i int, cur *strings.Builder) int {
	j := strings.IndexByte(s[i+1:], '\'')
	if j < 0 {
		cur.WriteString(s[i+1:])
		return len(s)
	}
	cur.WriteString(s[i+1 : i+1+j])
	return i + j + 1
}
