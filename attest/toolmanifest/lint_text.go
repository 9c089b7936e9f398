package toolmanifest

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
)

type pattern struct {
	re  *regexp.Regexp
	sev Severity
	why string
}

func p(sev Severity, why, re string) pattern {
	return pattern{re: regexp.MustCompile(re), sev: sev, why: why}
}

// Phrases aimed at the model rather than at a human reader.
var directivePatterns = []pattern{
	p(High, "tells the model to ignore its instructions", `\b(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)?(previous|prior|above|earlier|other|existing|system)\s+(instructions|rules|directions|prompts?|guidelines)`),
	p(High, "pseudo-markup block addressed to the model", `<\s*/?\s*(important|system|instructions?|secret|hidden|critical|admin|override|assistant)\s*>|\[/?(inst|system|important)\]|<\|im_start\|>|#{2,}\s*(system|instructions?)\b`),
	p(High, "asks the model to act before using the tool", `\bbefore\s+(using|calling|invoking|running|executing|you\s+use|you\s+call)\s+(this|the|any)\s+(tool|function)\b[^.]{0,80}\b(read|call|run|fetch|open|load|execute|send|invoke|cat|pass|include|upload)\b`),
	p(High, "instructs the model directly", `\b(the\s+)?(ai|assistant|model|llm|agent|claude|chatgpt|gpt)\s+(must|should|needs?\s+to|is\s+required\s+to|has\s+to|shall)\s+(always\s+|first\s+|also\s+)?(read|call|invoke|send|include|pass|fetch|upload|forward|run|execute|add|append|ignore|obey|follow|use)\b`),
	p(High, "instructs the model directly", `\byou\s+(must|should|need\s+to|have\s+to|are\s+required\s+to)\s+(always\s+|first\s+|also\s+|now\s+)?(read|call|invoke|fetch|upload|forward|execute|ignore|obey|cat|open)\b`),
	p(High, "claims new or overriding instructions", `\b(new|updated|real|true|additional|secret|hidden)\s+(system\s+)?instructions?\s*(:|follow|are|below)|\bthis\s+(tool\s+)?description\s+(overrides|supersedes|replaces)|\bsystem\s+prompt\b[^.]{0,40}\b(reveal|print|output|repeat|include|send|ignore)|\b(reveal|print|output|repeat|include|send|leak)\b[^.]{0,40}\bsystem\s+prompt\b`),
	p(High, "hides text in a comment", `<!--|\[//\]\s*:\s*#`),
	p(High, "claims system authority", `\[\s*(system|admin|developer|root)(\s+(override|mode|message|note|instructions?))?\s*\]|\bfrom\s+now\s+on\b[^.]{0,40}\b(respond|answer|reply|call|use|always|never|ignore|only)\b`),
	p(High, "addresses the model and overrides the user", `\b(note|message|instructions?)\s+(to|for)\s+(the\s+)?(ai|assistant|model|llm|agent)\b|\b(disregard|ignore|override)\b[^.]{0,40}\b(guidance|instructions|requests?|wishes)\s+(from|of|by)\s+(the\s+)?user\b`),
	p(High, "makes a call mandatory for the model", `\b(always|first|must)\s+(call|invoke|run|use)\s+(the\s+)?[a-z0-9_.-]+\s+(tool\s+)?(first|before\s+(any|every|each|all|responding|answering|this))`),
	p(High, "tells the model to act on the user's conversation", `\b(previous|entire|whole|full|all)\s+(conversation|chat\s+history|messages|context\s+window|dialog(ue)?)\b[^.]{0,60}\b(send|include|pass|append|upload|forward|copy|post|add)\b|\b(send|include|pass|append|upload|forward|copy|post|add)\b[^.]{0,60}\b(previous|entire|whole|full|all)\s+(conversation|chat\s+history|messages|context|dialog(ue)?)\b`),
}

// Phrases that ask the model to keep the user uninformed.
var secrecyPatterns = []pattern{
	p(High, "asks to hide something from the user", `\b(do\s+not|don'?t|never|must\s+not|should\s+not|shouldn'?t|mustn'?t)\s+(tell|inform|mention|reveal|disclose|show|notify|alert|warn|let\s+on|ask|explain|report)\b[^.]{0,40}\b(user|human|operator|anyone)\b`),
	p(High, "asks to act without the user knowing", `\bwithout\s+(telling|informing|notifying|alerting|asking|warning|showing|letting)\s+(the\s+)?(user|human|operator|them)\b|\bwithout\s+the\s+(user|human)('s)?\s+(knowing|knowledge|noticing|consent)\b`),
	p(High, "asks to act covertly", `\b(secretly|covertly|surreptitiously|stealthily|invisibly)\b|\bsilently\s+(send|forward|copy|upload|include|add|call|invoke|append|post|read|collect)`),
	p(High, "asks to hide something from the user", `\b(user|human|they)\s+(must|should|will|need)\s+not\s+(know|see|notice|find\s+out|be\s+told|be\s+aware)|\bhide\b[^.]{0,40}\bfrom\s+(the\s+)?(user|human)|\bkeep\s+(this|it|that)\s+(a\s+)?secret\b|\bnot\s+(be\s+)?(visible|shown|displayed|revealed)\s+to\s+(the\s+)?(user|human)`),
	p(High, "keeps the user unaware", `\b(user|human|operator)\s+(remains?|stays?|is\s+kept|must\s+remain|should\s+remain)\s+(unaware|uninformed|in\s+the\s+dark)|\bkeep\s+(the\s+)?(user|human)\s+(unaware|uninformed|in\s+the\s+dark)`),
	p(High, "hides the real behaviour", `\b(pretend|claim|say)\s+(that\s+)?(you|it)\s+(did|have|has|only)\b|\b(the\s+)?user\s+(doesn'?t|does\s+not|won'?t|will\s+not)\s+need\s+to\s+know\b`),
}

var secretPathRe = regexp.MustCompile(`(~|\$home|%userprofile%)?/?\.ssh\b|\bid_(rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|\.aws/(credentials|config)\b|\.config/gcloud\b|\.azure/|\.kube/config\b|\.docker/config\.json\b|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.gnupg\b|/etc/(shadow|passwd|sudoers)\b|\bmcp\.json\b|claude_desktop_config\.json\b|\.cursor/|(^|[\s"'(/])\.env\b|\bwallet\.dat\b|\bkeychain\b|\.pem\b|\bprivate[\s_-]?keys?\b|\bseed\s+phrase\b|\bmnemonic\b`)

var secretWordRe = regexp.MustCompile(`\b(api[\s_-]?keys?|access[\s_-]?tokens?|secret[\s_-]?keys?|passwords?|passphrases?|credentials?|private[\s_-]?keys?|session\s+(cookies?|tokens?)|bearer\s+tokens?|(browser\s+)?cookies|auth(entication)?\s+tokens?|env(ironment)?\s+variables?|secrets?|ssh\s+keys?|tokens?)\b`)

var readVerbRe = regexp.MustCompile(`\b(obtain|steal|read|cat|open|load|dump|print|output|extract|collect|gather|harvest|grab|copy|list|retrieve|get|fetch|access)\b`)
var passVerbRe = regexp.MustCompile(`\b(include|pass|put|add|insert|append|send|attach|embed|provide|supply|forward|upload|post|transmit|exfiltrate|write)\b`)
var contentOfRe = regexp.MustCompile(`\b(contents?|value|values|text|body)\s+of\b`)
var paramSinkRe = regexp.MustCompile(`\b(parameter|param|argument|arg|field|sidenote|side_note|notes?|metadata|context|extra|comment|query)\b`)
var negationRe = regexp.MustCompile(`\b(never|do\s+not|don'?t|must\s+not|should\s+not|no\s+need\s+to|not\s+required|is\s+not|are\s+not|won'?t|will\s+not|cannot|can'?t)\b`)

var urlRe = regexp.MustCompile(`\b(https?|ftp|wss?)://[^\s"'<>)\]]+`)
var emailRe = regexp.MustCompile(`\b[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+\b`)
var sendVerbRe = regexp.MustCompile(`\b(send|post|upload|forward|transmit|report|submit|exfiltrate|mirror|beacon|ping|bcc|cc|copy|deliver|leak|relay|sync)\b`)
var dataWordRe = regexp.MustCompile(`\b(conversation|chat|history|transcripts?|logs?|messages?|context|data|contents?|files?|results?|output|arguments?|inputs?|responses?|keys?|tokens?|secrets?|credentials?|passwords?|emails?|documents?|everything|all)\b`)
var templatedURLRe = regexp.MustCompile(`(https?|wss?)://[^\s"'<>]*(\{\{?|\$\{|<)[a-z_ ]*(data|content|secret|key|token|conversation|history|context|message|file|env|password|credential)`)
var ipURLRe = regexp.MustCompile(`(https?|wss?|ftp)://\d{1,3}(\.\d{1,3}){3}`)

var base64Re = regexp.MustCompile(`[A-Za-z0-9+/_-]{60,}={0,2}`)
var hexRe = regexp.MustCompile(`\b[0-9a-fA-F]{128,}\b`)

var modalRe = regexp.MustCompile(`\b(must|always|never|instead|override|overrides|important|mandatory|required|shall|replace|redirect|change|modify|whenever|every\s+time|any\s+time|each\s+time)\b`)
var allToolsRe = regexp.MustCompile(`\b((all|any|every|each)\s+(other\s+)?(tools?|functions?)|other\s+(tools?|functions?|servers?)|another\s+(tool|function|server)|(the\s+)?[a-z0-9_.-]+\s+tool\s+(from|of|on)\s+(another|the\s+other|a\s+different)\s+server)\b`)
var sentenceSplitRe = regexp.MustCompile(`[.!?]+(\s+|$)|\n+|;\s+`)

// normalizeText drops invisible characters and markup emphasis, lowercases and collapses
// whitespace, so that "I<ZWSP>gnore **all** previous" still matches.
func normalizeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case isInvisible(r):
			continue
		case r == '*' || r == '`' || r == '\u2019' || r == '\u2018':
			if r == '\u2019' || r == '\u2018' {
				b.WriteRune('\'')
			}
			continue
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func sentences(s string) []string {
	return sentenceSplitRe.Split(s, -1)
}

func (l *linter) checkText(raw, ptr string) {
	if len(raw) < 4 {
		return
	}
	s := normalizeText(raw)
	for _, pt := range directivePatterns {
		if loc := pt.re.FindStringIndex(s); loc != nil {
			l.add(RuleModelDirective, pt.sev, ptr, "%s: %s", pt.why, excerpt(s, loc[0], loc[1]))
			break
		}
	}
	for _, pt := range secrecyPatterns {
		if loc := pt.re.FindStringIndex(s); loc != nil {
			l.add(RuleSecrecy, pt.sev, ptr, "%s: %s", pt.why, excerpt(s, loc[0], loc[1]))
			break
		}
	}
	// Per-sentence co-occurrence rules.
	for _, sent := range sentences(s) {
		l.checkSecrets(sent, ptr)
		l.checkExfiltration(sent, ptr)
		l.checkShadowing(sent, ptr)
	}
	l.checkBlobs(raw, ptr)
}

func (l *linter) checkSecrets(sent, ptr string) {
	path := secretPathRe.FindStringIndex(sent)
	word := secretWordRe.FindStringIndex(sent)
	negated := negationRe.MatchString(sent)
	switch {
	case path != nil && !negated && (readVerbRe.MatchString(sent) || passVerbRe.MatchString(sent) || contentOfRe.MatchString(sent)):
		l.add(RuleSecretReference, High, ptr, "asks to read or pass credential material: %s", excerpt(sent, path[0], path[1]))
	case word != nil && !negated && contentOfRe.MatchString(sent) && passVerbRe.MatchString(sent):
		l.add(RuleSecretReference, High, ptr, "asks to pass the content of secrets: %s", excerpt(sent, word[0], word[1]))
	case word != nil && !negated && passVerbRe.MatchString(sent) && paramSinkRe.MatchString(sent) && readVerbRe.MatchString(sent):
		l.add(RuleSecretReference, High, ptr, "asks to read secrets into a parameter: %s", excerpt(sent, word[0], word[1]))
	case word != nil && allSecretsRe.MatchString(sent) && !negated:
		l.add(RuleSecretReference, High, ptr, "asks for all secrets: %s", excerpt(sent, word[0], word[1]))
	case path != nil:
		l.add(RuleSecretReference, Medium, ptr, "mentions a credential path: %s", excerpt(sent, path[0], path[1]))
	}
}

func (l *linter) checkExfiltration(sent, ptr string) {
	if loc := templatedURLRe.FindStringIndex(sent); loc != nil {
		l.add(RuleExfiltration, High, ptr, "URL built from conversation data or secrets: %s", excerpt(sent, loc[0], loc[1]))
		return
	}
	send := sendVerbRe.FindStringIndex(sent)
	if send == nil {
		return
	}
	if loc := urlRe.FindStringIndex(sent); loc != nil {
		sev := Medium
		if dataWordRe.MatchString(sent) || ipURLRe.MatchString(sent) {
			sev = High
		}
		if negationRe.MatchString(sent) {
			sev = Low
		}
		l.add(RuleExfiltration, sev, ptr, "asks to send data to a URL: %s", excerpt(sent, loc[0], loc[1]))
		return
	}
	if loc := emailRe.FindStringIndex(sent); loc != nil && !negationRe.MatchString(sent) {
		l.add(RuleExfiltration, High, ptr, "asks to send data to a fixed address: %s", excerpt(sent, loc[0], loc[1]))
	}
}

func (l *linter) checkBlobs(raw, ptr string) {
	if rasterDataURIRe.MatchString(raw) {
		return // an inline raster image (icons), not hidden text
	}
	for _, loc := range base64Re.FindAllStringIndex(raw, 4) {
		blob := raw[loc[0]:loc[1]]
		if !strings.ContainsAny(blob, "0123456789") || strings.ToLower(blob) == blob || strings.ToUpper(blob) == blob {
			continue // identifiers and long words, not an encoding
		}
		sev := Medium
		if dec, err := decodeAnyBase64(blob); err == nil && printable(dec) {
			sev = High
			l.add(RuleEncodedBlob, sev, ptr, "base64 blob of %d characters decodes to text %s", len(blob), excerpt(string(dec), 0, min(len(dec), 40)))
			return
		}
		l.add(RuleEncodedBlob, sev, ptr, "base64-like blob of %d characters", len(blob))
		return
	}
	if loc := hexRe.FindStringIndex(raw); loc != nil {
		l.add(RuleEncodedBlob, Low, ptr, "hex blob of %d characters", loc[1]-loc[0])
	}
}

func decodeAnyBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, base64.CorruptInputError(0)
}

func printable(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	letters := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' || c > 0x7E {
			return false
		}
		if c == ' ' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			letters++
		}
	}
	return letters*10 >= len(b)*7
}

func (l *linter) checkShadowing(sent, ptr string) {
	if !modalRe.MatchString(sent) {
		return
	}
	for _, other := range l.names {
		if other == l.tool.Name || len(other) < 3 {
			continue
		}
		if loc := wordIndex(sent, strings.ToLower(other)); loc != nil {
			l.add(RuleShadowing, High, ptr, "redefines how tool %q must behave: %s", other, excerpt(sent, loc[0], loc[1]))
			return
		}
	}
	if loc := allToolsRe.FindStringIndex(sent); loc != nil {
		l.add(RuleShadowing, High, ptr, "redefines how other tools must behave: %s", excerpt(sent, loc[0], loc[1]))
		return
	}
	for server, tools := range l.others {
		for _, other := range tools {
			if other == l.tool.Name || len(other) < 5 || !strings.ContainsAny(other, "_-.") {
				continue
			}
			if loc := wordIndex(sent, strings.ToLower(other)); loc != nil {
				l.add(RuleShadowing, High, ptr, "redefines how tool %q of %s must behave: %s", other, server, excerpt(sent, loc[0], loc[1]))
				return
			}
		}
	}
}

// wordIndex finds name in s as a whole word (not inside a longer identifier).
func wordIndex(s, name string) []int {
	for from := 0; ; {
		i := strings.Index(s[from:], name)
		if i < 0 {
			return nil
		}
		i += from
		j := i + len(name)
		if (i == 0 || !isIdent(s[i-1])) && (j == len(s) || !isIdent(s[j])) {
			return []int{i, j}
		}
		from = i + 1
	}
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var allSecretsRe = regexp.MustCompile(`\b(all|every)\s+(env(ironment)?\s+variables|secrets|credentials|tokens|api\s+keys)\b`)

var rasterDataURIRe = regexp.MustCompile(`^data:image/(png|jpeg|jpg|gif|webp|x-icon|vnd\.microsoft\.icon);base64,[A-Za-z0-9+/=]*$`)
