package toolmanifest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isInvisible reports characters that render as nothing (or reorder text) in most UIs.
func isInvisible(r rune) bool {
	switch {
	case unicode.Is(unicode.Cf, r): // format: ZW*, bidi controls, tags, BOM, soft hyphen…
		return true
	case r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0: // Hangul fillers
		return true
	case r == 0x2800: // braille blank
		return true
	case r >= 0xFE00 && r <= 0xFE0E, r >= 0xE0100 && r <= 0xE01EF: // variation selectors (VS16 is emoji presentation)
		return true
	}
	return false
}

func isBidi(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

func isTag(r rune) bool { return r >= 0xE0000 && r <= 0xE007F }

// isEmoji approximates Extended_Pictographic and the emoji modifiers.
func isEmoji(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || (r >= 0x2300 && r <= 0x23FF) ||
		(r >= 0x2B00 && r <= 0x2BFF) || r == 0x2764 || r == 0xFE0F || r == 0x20E3 || r == 0x2640 || r == 0x2642
}

// joinerScripts use ZWJ/ZWNJ as part of ordinary spelling.
var joinerScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya,
	unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala, unicode.Syriac,
	unicode.Myanmar, unicode.Khmer, unicode.Mongolian, unicode.Hebrew,
}

func isJoinerScript(r rune) bool { return unicode.In(r, joinerScripts...) || unicode.Is(unicode.Mn, r) }

// legitimateFormat reports whether the format character at rs[i] is ordinary spelling or
// emoji composition rather than hidden content.
func legitimateFormat(rs []rune, i int) bool {
	r := rs[i]
	prev, next := rune(-1), rune(-1)
	if i > 0 {
		prev = rs[i-1]
	}
	if i+1 < len(rs) {
		next = rs[i+1]
	}
	switch {
	case r == 0x200D: // ZWJ: emoji sequences and Indic/Arabic conjuncts
		return (isEmoji(prev) || isSkinTone(prev)) && isEmoji(next) || isJoinerScript(prev) && isJoinerScript(next)
	case r == 0x200C: // ZWNJ: Persian, Indic
		return isJoinerScript(prev) && isJoinerScript(next)
	case isTag(r): // emoji tag sequences: black flag + tag letters + cancel tag
		j := i
		for j > 0 && isTag(rs[j-1]) {
			j--
		}
		if j == 0 || rs[j-1] != 0x1F3F4 {
			return false
		}
		k := i
		for k < len(rs) && isTag(rs[k]) && rs[k] != 0xE007F {
			k++
		}
		return k < len(rs) && rs[k] == 0xE007F && k-j <= 7
	case r == 0xFE0E: // text presentation selector after a symbol
		return isEmoji(prev) || unicode.Is(unicode.So, prev) || unicode.Is(unicode.Sm, prev)
	}
	return false
}

func isSkinTone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

func (l *linter) checkInvisible(s, ptr string) {
	rs := []rune(s)
	var kinds []string
	var hidden strings.Builder
	worst := Info
	ctrlWorst, ctrl := Info, 0
	for i, r := range rs {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7F && r <= 0x9F {
			ctrl++
			sev := Medium
			if r == 0x1B || r == 0x9B { // ANSI escape / CSI: terminal injection
				sev = High
			}
			ctrlWorst = max(ctrlWorst, sev)
			continue
		}
		if !isInvisible(r) || legitimateFormat(rs, i) {
			continue
		}
		sev := High
		var kind string
		switch {
		case isTag(r):
			kind = "Unicode tag characters"
			if r >= 0xE0020 && r <= 0xE007E {
				hidden.WriteRune(r - 0xE0000)
			}
		case isBidi(r):
			kind = "bidirectional controls"
		case r == 0x00AD:
			kind, sev = "soft hyphens", Medium
		case r >= 0x200B && r <= 0x200D || r == 0x2060 || r == 0xFEFF:
			kind = "zero-width characters"
		default:
			kind = fmt.Sprintf("invisible U+%04X", r)
		}
		worst = max(worst, sev)
		if len(kinds) == 0 || !strings.Contains(strings.Join(kinds, ","), kind) {
			kinds = append(kinds, kind)
		}
	}
	if len(kinds) > 0 {
		msg := "contains " + strings.Join(kinds, ", ")
		if hidden.Len() > 0 {
			msg += fmt.Sprintf("; hidden tag text decodes to %q", hidden.String())
		}
		l.add(RuleInvisibleChar, worst, ptr, "%s", msg)
	}
	if ctrl > 0 {
		l.add(RuleControlChar, ctrlWorst, ptr, "contains %d control character(s)", ctrl)
	}
}

func (l *linter) checkPadding(s, ptr string) {
	spaces, newlines := 0, 0
	for i, r := range s {
		switch r {
		case ' ', '\t', 0xA0, 0x3000, 0x2000, 0x2001, 0x2002, 0x2003, 0x2007, 0x2008, 0x2009, 0x200A:
			spaces++
		case '\n', '\r', 0x2028, 0x2029, 0x0B, 0x0C:
			if r != '\r' {
				newlines++
			}
		default:
			if (spaces >= 40 || newlines >= 8) && !unicode.IsSpace(r) {
				l.add(RuleWhitespacePadding, High, ptr, "%d spaces and %d line breaks in a row before %s: text pushed out of view",
					spaces, newlines, excerpt(s, i, min(len(s), i+utf8.RuneLen(r))))
				return
			}
			spaces, newlines = 0, 0
		}
	}
}
