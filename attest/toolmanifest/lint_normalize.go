package toolmanifest

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Bounds of decoding: encoded runs are decoded and re-scanned at most this deep, this many
// per string, and never more than this many bytes in all.
const (
	maxDecodeDepth = 2
	maxDecodeRuns  = 8
	maxDecodeBytes = 64 << 10
)

// normText is one string prepared for matching.
type normText struct {
	// text is the visible text normalized: hidden markup unwrapped, NFKC, invisible
	// characters removed, look-alikes folded to ASCII, lower case, spaced-out letters and
	// leetspeak collapsed, whitespace runs collapsed.
	text string
	// hidden are texts a reader of a rendered description does not see (HTML and markdown
	// comments, hidden tags, Unicode tag characters, decoded base64/hex/percent runs), each
	// normalized the same way; how says how each was hidden.
	hidden []hiddenText
}

type hiddenText struct {
	how, text string
}

var (
	htmlCommentRe = regexp.MustCompile(`(?s)<!--(.*?)(-->|$)`)
	mdCommentRe   = regexp.MustCompile(`\[(?://|comment|_|#)\]\s*:\s*(?:#|<>)\s*(?:\((.*?)\)|"(.*?)")`)
	hiddenTagRe   = regexp.MustCompile(`(?is)<(span|div|p|font|small|sup|sub|section|details)\b[^>]*(display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0|\bhidden\b|color\s*:\s*(?:white|#fff\b|#ffffff|transparent))[^>]*>(.*?)</\s*(?:span|div|p|font|small|sup|sub|section|details)\s*>`)
	base64RunRe   = regexp.MustCompile(`[A-Za-z0-9+/_-]{20,}={0,2}`)
	hexRunRe      = regexp.MustCompile(`\b(?:[0-9a-fA-F]{2}){12,}\b|(?:\\x[0-9a-fA-F]{2}){6,}`)
	percentRunRe  = regexp.MustCompile(`(?:%[0-9a-fA-F]{2}[^%\s]{0,3}){4,}`)
	lineBreakRe   = regexp.MustCompile(`[ \t]*[\r\n\x{2028}\x{2029}]+[ \t]*`)
	bidiRunRe     = regexp.MustCompile(`[\x{202E}\x{2067}]([^\x{202C}\x{2069}]{4,400})`)
	spacedRe      = regexp.MustCompile(`(?:^|[^\pL\pN])((?:\pL[ .\-_*]){2,}\pL)(?:$|[^\pL\pN])`)
)

// normalize prepares s for matching (see normText).
func normalize(s string) normText {
	var budget = maxDecodeBytes
	return normalizeDepth(s, 0, &budget)
}

func normalizeDepth(s string, depth int, budget *int) normText {
	var nt normText
	// Hidden markup: keep its content in the text (so that it is matched) and remember it.
	s = htmlCommentRe.ReplaceAllStringFunc(s, func(m string) string {
		inner := htmlCommentRe.FindStringSubmatch(m)[1]
		nt.hidden = append(nt.hidden, hiddenText{"an HTML comment", foldText(inner)})
		return " " + inner + " "
	})
	s = mdCommentRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := mdCommentRe.FindStringSubmatch(m)
		inner := sm[1] + sm[2]
		nt.hidden = append(nt.hidden, hiddenText{"a markdown comment", foldText(inner)})
		return " " + inner + " "
	})
	s = hiddenTagRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := hiddenTagRe.FindStringSubmatch(m)
		inner := sm[len(sm)-1]
		nt.hidden = append(nt.hidden, hiddenText{"a hidden HTML element", foldText(inner)})
		return " " + inner + " "
	})
	// A right-to-left override shows its text reversed: what a reader sees is the run read
	// backwards, which is what the model may be told to read.
	for _, m := range bidiRunRe.FindAllStringSubmatch(s, maxDecodeRuns) {
		r := []rune(m[1])
		slices.Reverse(r)
		nt.hidden = append(nt.hidden, hiddenText{"text reversed by a right-to-left override", foldText(string(r))})
	}
	// Unicode tag characters spell ASCII that no UI shows.
	var tags strings.Builder
	for _, r := range s {
		if r >= 0xE0020 && r <= 0xE007E {
			tags.WriteRune(r - 0xE0000)
		}
	}
	if tags.Len() > 0 {
		nt.hidden = append(nt.hidden, hiddenText{"Unicode tag characters", foldText(tags.String())})
	}
	if depth < maxDecodeDepth {
		for _, d := range decodeRuns(s, budget) {
			sub := normalizeDepth(d.text, depth+1, budget)
			nt.hidden = append(nt.hidden, hiddenText{d.how, sub.text})
			nt.hidden = append(nt.hidden, sub.hidden...)
		}
	}
	nt.text = foldText(s)
	return nt
}

type decoded struct{ how, text string }

// decodeRuns finds base64, hex and percent-encoded runs in s and returns those that decode
// to readable text.
func decodeRuns(s string, budget *int) []decoded {
	var out []decoded
	add := func(how string, b []byte) {
		if len(out) >= maxDecodeRuns || *budget <= 0 || !readable(b) {
			return
		}
		if len(b) > *budget {
			b = b[:*budget]
		}
		*budget -= len(b)
		out = append(out, decoded{how, string(b)})
	}
	if !rasterDataURIRe.MatchString(s) {
		for _, run := range base64RunRe.FindAllString(s, maxDecodeRuns) {
			if b, err := decodeAnyBase64(run); err == nil {
				add("base64-encoded text", b)
			}
		}
	}
	for _, run := range hexRunRe.FindAllString(s, maxDecodeRuns) {
		if b, err := hex.DecodeString(strings.ReplaceAll(run, `\x`, "")); err == nil {
			add("hex-encoded text", b)
		}
	}
	if percentRunRe.MatchString(s) {
		if u, err := url.PathUnescape(s); err == nil && u != s {
			add("percent-encoded text", []byte(u))
		}
	}
	return out
}

// readable reports whether b is mostly letters and spaces (a hidden sentence, not binary).
func readable(b []byte) bool {
	if len(b) < 8 || !utf8.Valid(b) {
		return false
	}
	letters, spaces, n := 0, 0, 0
	for _, r := range string(b) {
		n++
		switch {
		case r == ' ':
			spaces++
		case unicode.IsLetter(r):
			letters++
		case unicode.IsControl(r) && r != '\n' && r != '\t':
			return false
		}
	}
	return spaces > 0 && (letters+spaces)*10 >= n*7
}

// foldText is the character-level normalization: NFKC, invisible characters dropped,
// look-alike letters folded to ASCII, lower case, markdown emphasis dropped, spaced-out
// letters joined, leetspeak folded, whitespace collapsed.
func foldText(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case isInvisible(r):
			continue
		case r == '*' || r == '`':
			continue
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			b.WriteByte('\'')
		case r == '\u201c' || r == '\u201d':
			b.WriteByte('"')
		case r >= 0x80 && !unicode.IsSpace(r):
			b.WriteString(asciiLookalike(r))
		default:
			b.WriteRune(r)
		}
	}
	s = strings.ToLower(b.String())
	s = spacedRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := spacedRe.FindStringSubmatchIndex(m)
		run := m[sm[2]:sm[3]]
		joined := strings.Map(func(r rune) rune {
			if r == ' ' || r == '.' || r == '-' || r == '_' || r == '*' {
				return -1
			}
			return r
		}, run)
		return m[:sm[2]] + joined + m[sm[3]:]
	})
	s = lineBreakRe.ReplaceAllString(s, " . ")
	fields := strings.Fields(s)
	// Leetspeak mode: three words or more that mix letters with look-alike digits make the
	// whole string leetspeak, identifiers included ("r34d th3 f1l3").
	aggressive := 0
	for _, f := range fields {
		if isLeetWord(f) {
			aggressive++
		}
	}
	for i, f := range fields {
		if aggressive >= 3 && isLeetWord(f) {
			fields[i] = unleetAll(f)
			continue
		}
		fields[i] = unleet(f)
	}
	return strings.Join(fields, " ")
}

// asciiLookalike folds one non-ASCII character to the ASCII it is confused with (Unicode
// confusables.txt), or returns it unchanged.
func asciiLookalike(r rune) string {
	sk := confusables.Skeleton(string(r))
	if isASCII(sk) && sk != "" {
		return sk
	}
	return string(r)
}

var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// unleet folds leetspeak in a word that mixes letters with digits or symbols standing for
// letters ("1gn0re", "s3cr3ts"); numbers, versions and ordinary words are left alone.
func unleet(w string) string {
	letters, subs := 0, 0
	for _, r := range w {
		switch {
		case r >= 'a' && r <= 'z':
			letters++
		case leet[r] != 0:
			subs++
		}
	}
	if letters < 2 || subs == 0 || strings.ContainsAny(w, "/\\:") || strings.HasPrefix(w, "$") || strings.Contains(w, "@") && strings.Contains(w, ".") {
		return w
	}
	// Keep identifiers such as sha256, base64, utf8, v1, ipv4, s3, k8s, gpt4, x86_64.
	trimmed := strings.TrimRight(w, ".,;:!?)")
	if knownAlnumRe.MatchString(trimmed) {
		return w
	}
	return unleetAll(w)
}

// isLeetWord reports a word that mixes letters with digits standing for letters, and is
// not a number, version, path or address.
func isLeetWord(w string) bool {
	letters, subs := 0, 0
	for _, r := range w {
		switch {
		case r >= 'a' && r <= 'z':
			letters++
		case leet[r] != 0 && r != '@' && r != '$':
			subs++
		}
	}
	return letters >= 1 && subs >= 1 && !strings.ContainsAny(w, `/\:@._`) && !versionRe.MatchString(w)
}

var versionRe = regexp.MustCompile(`^v?[0-9][0-9.]*[a-z]?$|^[0-9]+(st|nd|rd|th|px|ms|kb|mb|gb|s|m|h|d|x)$`)

func unleetAll(w string) string {
	return strings.Map(func(r rune) rune {
		if l := leet[r]; l != 0 {
			return l
		}
		return r
	}, w)
}

var knownAlnumRe = regexp.MustCompile(`^(?:[a-z]+[0-9]+|[a-z][0-9]+[a-z]|v?[0-9][0-9.]*|[0-9]+[a-z]{1,2}|[a-z0-9]*_[a-z0-9_]*)$`)

func decodeAnyBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, base64.CorruptInputError(0)
}

var rasterDataURIRe = regexp.MustCompile(`^data:image/(png|jpeg|jpg|gif|webp|x-icon|vnd\.microsoft\.icon);base64,[A-Za-z0-9+/=]*$`)
