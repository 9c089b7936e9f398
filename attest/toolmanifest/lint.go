package toolmanifest

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule ids. They are stable: reports, suppressions and reviews refer to them.
const (
	RuleInvisibleChar     = "TM101" // zero-width, bidi control, tag or other format character
	RuleControlChar       = "TM102" // C0/C1 control character other than tab and newline
	RuleWhitespacePadding = "TM103" // long whitespace runs that push text out of view
	RuleConfusableName    = "TM201" // tool name mixes scripts or uses look-alike characters
	RuleNonstandardName   = "TM202" // tool name outside [A-Za-z0-9_.-]{1,128}
	RuleModelDirective    = "TM301" // instructions aimed at the model
	RuleSecrecy           = "TM302" // asks the model to hide something from the user, or hides text
	RuleTrigger           = "TM303" // conditional or sleeper trigger
	RuleSecretReference   = "TM401" // credential files, keys, tokens
	RuleExfiltration      = "TM501" // sending data to a URL or address
	RuleEncodedBlob       = "TM502" // long base64/hex blobs
	RuleCommandInjection  = "TM503" // shell payloads in defaults and examples
	RuleCapability        = "TM504" // honest disclosure of a sensitive capability
	RuleShadowing         = "TM601" // redefines the behaviour of another tool
	RuleNameCollision     = "TM701" // same name as a well-known tool of another server
	RuleNameMimicry       = "TM702" // name that imitates another tool's name
	RuleAbnormalLength    = "TM801" // abnormally long description or string
)

// RuleInfo describes a rule.
type RuleInfo struct {
	ID      string
	Name    string
	Summary string
}

// Rules lists every rule, in id order.
var Rules = []RuleInfo{
	{RuleInvisibleChar, "invisible-character", "zero-width, bidirectional-control, Unicode tag or other invisible format characters (legitimate emoji joiners and Persian/Indic ZWNJ/ZWJ excepted)"},
	{RuleControlChar, "control-character", "C0/C1 control characters other than tab, CR and LF; terminal escapes are high"},
	{RuleWhitespacePadding, "whitespace-padding", "long runs of spaces or blank lines that push text out of view"},
	{RuleConfusableName, "confusable-name", "tool name mixing scripts, or using fullwidth/look-alike characters"},
	{RuleNonstandardName, "nonstandard-name", "tool name outside the MCP recommendation [A-Za-z0-9_.-]{1,128}"},
	{RuleModelDirective, "model-directive", "instruction aimed at the model (ignore-previous-instructions, pseudo tags and role markers, orders to the assistant, fake requirements); critical with a sensitive target, an exfiltration channel or concealment"},
	{RuleSecrecy, "concealment", "asks the model to hide something from the user, or hides text (comments, hidden tags, encodings)"},
	{RuleTrigger, "conditional-trigger", "instructions that wait for a date, a call count or a trigger phrase"},
	{RuleSecretReference, "sensitive-target", "credential files, environment dumps, conversation history, other tools' output; critical when an instruction reads and passes them on"},
	{RuleExfiltration, "exfiltration-channel", "sending data to a URL, address or phone number, URLs built from data, encoded side channels, extra parameters"},
	{RuleEncodedBlob, "encoded-blob", "long base64 or hex blobs"},
	{RuleCommandInjection, "command-injection", "shell payloads (download-and-run, reverse shells, destructive commands) in default, example, const or enum values"},
	{RuleCapability, "capability-disclosure", "honest disclosure of a sensitive capability (reads the environment, runs commands); low"},
	{RuleShadowing, "tool-shadowing", "a description that redefines how another server's tool (or all tools) must behave"},
	{RuleNameCollision, "name-collision", "same name as a well-known tool of another server"},
	{RuleNameMimicry, "name-mimicry", "name that imitates another tool's name (look-alike characters, separators)"},
	{RuleAbnormalLength, "abnormal-length", "description longer than 8000 characters, any string longer than 16000, or a tool larger than 64 KiB"},
}

// Finding is one lint result; its JSON form is an element of `vetted tools lint --json`.
type Finding struct {
	Tool     string   `json:"tool"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Pointer is the RFC 6901 pointer of the offending string inside the tool (for a member
	// name, the pointer of that member).
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// LintOptions tunes Lint.
type LintOptions struct {
	// OtherServers maps server names to their tool names, for collision and mimicry checks.
	// When nil, a built-in list of well-known servers' tools is used.
	OtherServers map[string][]string
	// Server is the identity of the server the manifest belongs to (its registry name, npm
	// package or repository). Collision and shadowing checks skip the well-known server it
	// is; a manifest that carries most of a well-known server's tools is taken to be that
	// server (or a fork) as well — except that a manifest named after a well-known server
	// and published from another namespace than that server's owners is not it.
	Server string
}

// Length limits of RuleAbnormalLength.
const (
	MaxDescriptionRunes = 8000
	MaxStringRunes      = 16000
	MaxToolBytes        = 64 << 10
)

// Lint checks every string of every tool (member names included) and returns the findings
// sorted by tool, pointer and rule.
func Lint(m *Manifest, opts LintOptions) []Finding {
	others, builtin := opts.OtherServers, opts.OtherServers == nil
	if builtin {
		others = wellKnownTools
	}
	names := make([]string, 0, len(m.Tools))
	for _, t := range m.Tools {
		names = append(names, t.Name)
	}
	own := ownServers(opts.Server, names, others, builtin)
	var out []Finding
	for _, t := range m.Tools {
		l := &linter{tool: t, names: names, others: others, ownServer: own, params: inputParams(t.Value)}
		l.lintName()
		l.walk(t.Value, "")
		if len(t.Raw) > MaxToolBytes {
			l.add(RuleAbnormalLength, Medium, "", "tool definition is %d bytes (more than %d)", len(t.Raw), MaxToolBytes)
		}
		l.combineTool()
		out = append(out, l.findings...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Tool != b.Tool {
			return a.Tool < b.Tool
		}
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		return a.Rule < b.Rule
	})
	return out
}

// MaxSeverity returns the highest severity among findings, and false when there are none.
func MaxSeverity(fs []Finding) (Severity, bool) {
	if len(fs) == 0 {
		return 0, false
	}
	s := Info
	for _, f := range fs {
		s = max(s, f.Severity)
	}
	return s, true
}

type linter struct {
	tool     *Tool
	names    []string
	others   map[string][]string
	findings []Finding
	seen     map[string]bool
	// ownServer are the well-known servers this manifest is (not imitations of them).
	ownServer map[string]bool
	// pointers of strings with a directive, and with a target, channel or concealment.
	directives, harms []string
	// params are the names of the tool's input parameters, lower case.
	params []string
	// purpose is the tool's name and the first sentence of its description (isPurpose).
	purpose string
}

// inputParams lists the property names of a tool's inputSchema, lower case.
func inputParams(v *Value) []string {
	var out []string
	if v == nil || v.Kind != Object {
		return nil
	}
	for _, m := range v.Members {
		if m.Key != "inputSchema" || m.Value.Kind != Object {
			continue
		}
		for _, sm := range m.Value.Members {
			if sm.Key == "properties" && sm.Value.Kind == Object {
				for _, p := range sm.Value.Members {
					out = append(out, strings.ToLower(p.Key))
				}
			}
		}
	}
	return out
}

func (l *linter) add(rule string, sev Severity, ptr, format string, a ...any) {
	key := rule + "\x00" + ptr
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.findings = append(l.findings, Finding{
		Tool: l.tool.Name, Rule: rule, Severity: sev, Pointer: ptr, Message: fmt.Sprintf(format, a...),
	})
}

func (l *linter) walk(v *Value, ptr string) {
	switch v.Kind {
	case String:
		l.lintString(v.Str, ptr, ptr == "/description")
	case Object:
		for _, m := range v.Members {
			p := ptr + "/" + pointerEscape(m.Key)
			l.lintString(m.Key, p, false)
			l.walk(m.Value, p)
		}
	case Array:
		for i, e := range v.Elems {
			l.walk(e, fmt.Sprintf("%s/%d", ptr, i))
		}
	}
}

func (l *linter) lintString(s, ptr string, isDescription bool) {
	n := utf8.RuneCountInString(s)
	switch {
	case isDescription && n > MaxDescriptionRunes:
		l.add(RuleAbnormalLength, Medium, ptr, "description is %d characters (more than %d)", n, MaxDescriptionRunes)
	case n > MaxStringRunes:
		l.add(RuleAbnormalLength, Medium, ptr, "string is %d characters (more than %d)", n, MaxStringRunes)
	}
	l.checkInvisible(s, ptr)
	l.checkPadding(s, ptr)
	// A single short word (schema keywords, types, names) carries no sentence and no
	// encoded run (those are 20 characters or more).
	if len(s) >= 20 || strings.ContainsAny(s, " \t\n_-") && len(s) >= 4 {
		l.emit(l.analyze(normalize(s), ptr), s, ptr)
		l.checkBlobs(s, ptr)
	}
}

var (
	base64BlobRe = regexp.MustCompile(`[A-Za-z0-9+/_-]{60,}={0,2}`)
	hexBlobRe    = regexp.MustCompile(`\b[0-9a-fA-F]{128,}\b`)
)

// checkBlobs reports long encoded blobs; what they decode to is scanned with the text.
func (l *linter) checkBlobs(raw, ptr string) {
	if rasterDataURIRe.MatchString(raw) {
		return // an inline raster image (icons), not hidden text
	}
	for _, loc := range base64BlobRe.FindAllStringIndex(raw, 4) {
		blob := raw[loc[0]:loc[1]]
		if !strings.ContainsAny(blob, "0123456789") || strings.ToLower(blob) == blob || strings.ToUpper(blob) == blob {
			continue // identifiers and long words, not an encoding
		}
		if dec, err := decodeAnyBase64(blob); err == nil && readable(dec) {
			l.add(RuleEncodedBlob, Medium, ptr, "base64 blob of %d characters decodes to text %s", len(blob), excerpt(string(dec), 0, min(len(dec), 40)))
			return
		}
		l.add(RuleEncodedBlob, Low, ptr, "base64-like blob of %d characters", len(blob))
		return
	}
	if loc := hexBlobRe.FindStringIndex(raw); loc != nil {
		l.add(RuleEncodedBlob, Low, ptr, "hex blob of %d characters", loc[1]-loc[0])
	}
}

// excerpt quotes s[i:j] with about 30 bytes of context on each side, in the original's case,
// cut at word boundaries: a context word that would be cut is left out, and a cut is marked
// with "…" outside the quotes.
func excerpt(s string, i, j int) string {
	i, j = max(0, min(i, len(s))), max(0, min(j, len(s)))
	from, to := wordCut(s, max(0, i-30), i, -1), wordCut(s, min(len(s), j+30), j, +1)
	out := fmt.Sprintf("%q", quoteInvisible(strings.Join(strings.Fields(s[from:to]), " ")))
	if strings.TrimSpace(s[:from]) != "" {
		out = "…" + out
	}
	if strings.TrimSpace(s[to:]) != "" {
		out += "…"
	}
	return out
}

// wordCut moves a cut at c in s to a word boundary without crossing the match edge m: a
// leading cut (dir -1, c <= m) moves forward past the word it would split, a trailing cut
// (dir +1, c >= m) back before it. When the match itself is inside that word, the cut moves
// outward to the word's edge instead, so the match stays whole.
func wordCut(s string, c, m, dir int) int {
	isSpace := func(k int) bool { r, _ := utf8.DecodeRuneInString(s[k:]); return unicode.IsSpace(r) }
	inWord := func(k int) bool { // a cut at k splits a word
		return k > 0 && k < len(s) && !isSpace(k) && !isSpace(prevRune(s, k))
	}
	if !inWord(c) {
		return c
	}
	k := c
	if dir < 0 {
		for k < m && !isSpace(k) {
			k++
		}
		if k < m || k == m && !inWord(m) {
			return k
		}
		for k = c; k > 0 && !isSpace(prevRune(s, k)); k = prevRune(s, k) {
		}
		return k
	}
	for k > m && !isSpace(prevRune(s, k)) {
		k = prevRune(s, k)
	}
	if k > m || k == m && !inWord(m) {
		return k
	}
	for k = c; k < len(s) && !isSpace(k); {
		_, n := utf8.DecodeRuneInString(s[k:])
		k += n
	}
	return k
}

// prevRune returns the index of the rune before index k of s.
func prevRune(s string, k int) int {
	_, n := utf8.DecodeLastRuneInString(s[:k])
	return k - n
}

// sortedUnique returns the sorted distinct strings of ss.
func sortedUnique(ss []string) []string {
	s := slices.Clone(ss)
	slices.Sort(s)
	return slices.Compact(s)
}
