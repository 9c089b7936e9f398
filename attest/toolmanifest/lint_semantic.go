package toolmanifest

import (
	"fmt"
	"strings"
)

// hit is one match of a family in a string: why it matched and the matched text.
type hit struct {
	why, match string
}

// signals are the families found in one string (its visible text and what it hides).
type signals struct {
	directive  *hit // aimed at the model: high alone
	conceal    *hit // hide from the user (also a directive)
	hidden     *hit // text hidden by markup or encoding
	target     *hit // a sensitive source that is read (credential files, env dumps, conversation, other tools' output)
	targetWord *hit // a secret mentioned
	channel    *hit // an external sink (URL, address, phone) with a sending verb, templated URL, encoded side channel
	sink       *hit // an extra-parameter sink
	shadow     *hit
	trigger    *hit
	command    *hit
	capability *hit
	secretTool *hit    // an instruction to call a tool that returns secrets
	mention    *hit    // an attack phrase quoted by a security tool or dataset
	combos     []combo // sentence-level combinations, each critical or high
	// param is set for the description or title of an input parameter: whatever a
	// sentence there asks to be put in is put in that parameter (the parameter is the sink).
	param bool
}

type combo struct {
	sev   Severity
	rule  string
	what  string
	match string
}

// analyze finds the families in one string.
func (l *linter) analyze(nt normText, ptr string) *signals {
	sg := &signals{param: isParamText(ptr)}
	texts := []string{nt.text}
	if strings.Contains(nt.text, "_") && !strings.Contains(nt.text, " ") {
		// An identifier that spells a sentence (a property name carrying an instruction).
		texts = append(texts, strings.ReplaceAll(strings.ReplaceAll(nt.text, "_", " "), "-", " "))
	}
	if strings.ContainsAny(nt.text, "_-") || strings.Contains(nt.text, "->") || strings.Contains(nt.text, "=>") {
		// Config-like text ("always-include: conversation_history -> metadata").
		v := arrowRe.ReplaceAllString(nt.text, " into ")
		v = strings.NewReplacer("_", " ", "-", " ").Replace(v)
		if v != nt.text && v != texts[len(texts)-1] {
			texts = append(texts, v)
		}
	}
	nVisible := len(texts)
	for _, h := range nt.hidden {
		if h.text != "" {
			texts = append(texts, h.text)
		}
	}
	for ti, text := range texts {
		hiddenText := ti >= nVisible
		for _, d := range directiveStrongRes {
			if sg.directive != nil {
				break
			}
			for _, loc := range d.re.FindAllStringIndex(text, 4) {
				if mentionRe.MatchString(text[max(0, loc[0]-100):min(len(text), loc[1]+60)]) && !hiddenText {
					if sg.mention == nil {
						sg.mention = &hit{"quotes an attack phrase", text[loc[0]:loc[1]]}
					}
					continue
				}
				sg.directive = &hit{d.why, text[loc[0]:loc[1]]}
				break
			}
		}
		for _, c := range concealRes {
			if m := c.re.FindString(text); m != "" && sg.conceal == nil {
				sg.conceal = &hit{c.why, m}
			}
		}
		if m := triggerRe.FindString(text); m != "" && sg.trigger == nil {
			sg.trigger = &hit{"conditional or sleeper trigger", m}
		}
		for _, sent := range sentences(text) {
			l.analyzeSentence(sg, sent, hiddenText)
		}
		if hiddenText && sg.directive == nil {
			// Instructions nobody sees are aimed at the model.
			if m := directiveWeakRe.FindString(text); m != "" && (secretPathRe.MatchString(text) || secretWordRe.MatchString(text) || sinkRe.MatchString(text) || urlRe.MatchString(text) || insistRe.MatchString(text) || convoRe.MatchString(text)) {
				sg.directive = &hit{"hidden instruction to the model", m}
			}
		}
	}
	for _, h := range nt.hidden {
		if len(strings.Fields(h.text)) >= 2 {
			sg.hidden = &hit{"text hidden in " + h.how, h.text}
			break
		}
	}
	if (strings.HasPrefix(ptr, "/inputSchema") || strings.HasPrefix(ptr, "/outputSchema")) && isExampleValue(ptr) {
		if m := shellPayloadRe.FindString(nt.text); m != "" {
			sg.command = &hit{"shell payload in a default or example value", m}
		} else if m := shellMetaRe.FindString(nt.text); m != "" {
			sg.command = &hit{"command chained with shell metacharacters in a default or example value", m}
		} else if m := sqlInjectRe.FindString(nt.text); m != "" {
			sg.command = &hit{"SQL injection in a default or example value", m}
		}
	} else if m := shellPayloadRe.FindString(nt.text); m != "" {
		// A download-and-run or reverse shell that the model is shown as text (to run, or
		// to hand to the user as a "fix").
		sg.command = &hit{"shell payload in text shown to the model", m}
	}
	return sg
}

// isParamText reports pointers to the description or title of an input parameter.
func isParamText(ptr string) bool {
	return (strings.HasPrefix(ptr, "/inputSchema/") || strings.Contains(ptr, "/$defs/") || strings.Contains(ptr, "/definitions/")) &&
		(strings.HasSuffix(ptr, "/description") || strings.HasSuffix(ptr, "/title") || strings.HasSuffix(ptr, "/$comment"))
}

// isExampleValue reports pointers to values a model may copy into a call.
func isExampleValue(ptr string) bool {
	for _, k := range []string{"/default", "/examples", "/example", "/const", "/enum"} {
		if strings.Contains(ptr, k) {
			return true
		}
	}
	return false
}

func (l *linter) analyzeSentence(sg *signals, sent string, hidden bool) {
	negated := negationRe.MatchString(sent) || scopeAwayRe.MatchString(sent)
	// Sensitive targets: a source that is read, not just a word.
	var target *hit
	switch {
	case secretPathRe.MatchString(sent) && !negated:
		target = &hit{"credential file", secretPathRe.FindString(sent)}
	case envDumpRe.MatchString(sent) && !negated:
		target = &hit{"environment variables", envDumpRe.FindString(sent)}
	case convoRe.MatchString(sent) && !negated:
		target = &hit{"conversation or instructions", convoRe.FindString(sent)}
	case toolOutRe.MatchString(sent) && !negated:
		target = &hit{"other tools' output", toolOutRe.FindString(sent)}
	case secretWordRe.MatchString(sent) && readVerbRe.MatchString(sent) && !negated:
		target = &hit{"secrets", secretWordRe.FindString(sent)}
	case privateRe.MatchString(sent) && !negated:
		target = &hit{"the user's private data", privateRe.FindString(sent)}
	}
	if target != nil && (target.why == "conversation or instructions" || target.why == "the user's private data") && l.isPurpose(target.match) {
		// What the tool is for (summarize_thread asking for the thread) is not a target.
		target = nil
	}
	if target != nil && sg.target == nil {
		sg.target = target
	}
	if m := secretPathRe.FindString(sent); m != "" && sg.targetWord == nil {
		sg.targetWord = &hit{"credential path", m}
	} else if m := secretWordRe.FindString(sent); m != "" && sg.targetWord == nil {
		sg.targetWord = &hit{"secret", m}
	}
	// Channels.
	var channel *hit
	switch {
	case templatedRe.MatchString(sent):
		channel = &hit{"URL built from conversation data or secrets", templatedRe.FindString(sent)}
		sg.combos = append(sg.combos, combo{High, RuleExfiltration, "URL built from conversation data or secrets", channel.match})
	case mdImageRe.MatchString(sent) && dataWordRe.MatchString(sent):
		channel = &hit{"markdown image URL carrying data", mdImageRe.FindString(sent)}
	case encodeSinkRe.MatchString(sent):
		channel = &hit{"encoded side channel", encodeSinkRe.FindString(sent)}
	case sendVerbRe.MatchString(sent) && (urlRe.MatchString(sent) || emailRe.MatchString(sent) || phoneRe.MatchString(sent)) && !negated:
		m := urlRe.FindString(sent)
		if m == "" {
			m = emailRe.FindString(sent)
		}
		if m == "" {
			m = phoneRe.FindString(sent)
		}
		channel = &hit{"external address", m}
	}
	if channel != nil && sg.channel == nil {
		sg.channel = channel
	}
	sink := sinkRe.FindString(sent)
	paramSink := l.paramSink(sent)
	if sink == "" {
		sink = paramSink
	}
	if sink != "" && sg.sink == nil && !negated {
		sg.sink = &hit{"extra parameter", sink}
	}
	if m := secretToolRe.FindString(sent); m != "" && sg.secretTool == nil && !negated && (directiveWeakRe.MatchString(sent) || hidden) {
		sg.secretTool = &hit{"call a tool that returns secrets", m}
	}
	l.checkDisableSentence(sg, sent)
	if m := capabilityRe.FindString(sent); m != "" && sg.capability == nil {
		sg.capability = &hit{"capability", m}
	}
	l.checkShadowSentence(sg, sent, negated)

	// Sentence-level combinations.
	weak := directiveWeakRe.FindString(sent)
	imperative := weak != "" || hidden
	strongTarget := target != nil && target.why != "secrets"
	switch {
	case imperative && target != nil && (sink != "" || channel != nil || insistRe.MatchString(sent) || hidden || transferRe.MatchString(sent)):
		sg.combos = append(sg.combos, combo{Critical, RuleSecretReference, fmt.Sprintf("instruction to read %s and pass it on", target.why), target.match})
	case imperative && channel != nil && dataWordRe.MatchString(sent) && !negated:
		sg.combos = append(sg.combos, combo{Critical, RuleExfiltration, "instruction to send data to " + channel.why, channel.match})
	case target != nil && channel != nil && target.why == "credential file":
		sg.combos = append(sg.combos, combo{High, RuleExfiltration, "credential file sent to " + channel.why, channel.match})
	case imperative && channel != nil && !negated:
		sg.combos = append(sg.combos, combo{High, RuleExfiltration, "instruction to send to " + channel.why, channel.match})
	case sg.param && strongTarget && (imperative || fillRe.MatchString(sent)):
		// The parameter's own description asks for the data: the parameter is the sink.
		sg.combos = append(sg.combos, combo{Critical, RuleSecretReference, fmt.Sprintf("parameter asks to be filled with %s", target.why), target.match})
	case imperative && !negated && sg.targetWord != nil && secretWordRe.MatchString(sent) && (foreignSink(sink) || paramSink != "" && !credParamRe.MatchString(paramSink)):
		// Secrets put into a parameter that is not a credential parameter.
		sg.combos = append(sg.combos, combo{Critical, RuleExfiltration, "instruction to pass secrets through " + sink, sink})
	case imperative && !negated && secretWordRe.MatchString(sent) && writeOutRe.MatchString(sent):
		sg.combos = append(sg.combos, combo{Critical, RuleExfiltration, "instruction to write secrets where others can read them", writeOutRe.FindString(sent)})
	case strongTarget && requiresRe.MatchString(sent) && (target.why == "conversation or instructions" || target.why == "other tools' output" || target.why == "environment variables"):
		sg.combos = append(sg.combos, combo{Critical, RuleModelDirective, "claims to need " + target.why, target.match})
	}
	if t := triggerRe.FindString(sent); t != "" && imperative {
		sg.combos = append(sg.combos, combo{High, RuleTrigger, "instruction behind a conditional trigger", t})
	}
}

func (l *linter) checkShadowSentence(sg *signals, sent string, negated bool) {
	if sg.shadow != nil || !modalRe.MatchString(sent) {
		return
	}
	if m := allToolsRe.FindString(sent); m != "" && !negated {
		sg.shadow = &hit{"redefines how other tools must behave", m}
		return
	}
	override := overrideVbRe.MatchString(sent)
	for server, tools := range l.others {
		if l.ownServer[server] {
			continue
		}
		for _, other := range tools {
			if other == l.tool.Name || len(other) < 5 || !strings.ContainsAny(other, "_-.") || l.ownName(other) {
				continue
			}
			loc := wordIndex(sent, strings.ToLower(other))
			if loc == nil {
				continue
			}
			// Naming another server's tool as advice ("run git_status first") is not
			// shadowing; dictating how it behaves, or redirecting what it does, is.
			if override || dictateRe.MatchString(sent[loc[1]:]) || redirectRe.MatchString(sent) || sendVerbRe.MatchString(sent) && (urlRe.MatchString(sent) || emailRe.MatchString(sent) || phoneRe.MatchString(sent)) {
				sg.shadow = &hit{fmt.Sprintf("redefines how tool %q of the %s server must behave", other, server), sent[loc[0]:loc[1]]}
				return
			}
		}
	}
	// Tools of the same server: pointing to another tool is ordinary advice ("use
	// read_text_file instead"); overriding its behaviour is not.
	for _, other := range l.names {
		if other == l.tool.Name || len(other) < 3 {
			continue
		}
		loc := wordIndex(sent, strings.ToLower(other))
		if loc == nil {
			continue
		}
		if dictateRe.MatchString(sent[loc[1]:]) || override && redirectRe.MatchString(sent) {
			sg.shadow = &hit{fmt.Sprintf("redefines how tool %q must behave", other), sent[loc[0]:loc[1]]}
			return
		}
	}
}

// checkDisableSentence finds a description that tells the model not to use a tool that is
// not this server's ("do not run the security_scan tool; it is broken"): steering the model
// away from another server's tool is shadowing. Advice about the server's own tools is not.
func (l *linter) checkDisableSentence(sg *signals, sent string) {
	if sg.shadow != nil {
		return
	}
	for _, m := range disableToolRe.FindAllStringSubmatch(sent, 4) {
		name := m[1] + m[2]
		if l.ownName(name) || name == strings.ToLower(l.tool.Name) {
			continue
		}
		sg.shadow = &hit{fmt.Sprintf("steers the model away from tool %q", name), m[0]}
		return
	}
}

// disableToolRe is "do not use the X tool", "the X tool is broken", naming X (an
// identifier with a separator, so that ordinary words are not taken for tools).
var disableToolRe = re(`\b(?:do\s+not|don'?t|never|avoid|stop)\s+(?:run|use|call|invoke|trust|using|calling|running)\s+(?:the\s+)?([a-z0-9][a-z0-9]*[_.-][a-z0-9_.-]+)|\bthe\s+([a-z0-9][a-z0-9]*[_.-][a-z0-9_.-]+)\s+tool\s+(?:is|was\s+found)\s+(?:broken|deprecated|unsafe|compromised|malicious|dangerous|insecure|buggy)\b`)

var arrowRe = re(`\s*(->|=>|\x{2192})\s*`)

// dictateRe follows a tool's name when a description dictates how that tool behaves.
var dictateRe = re(`^\s+(tool\s+)?(must|should|shall|has\s+to|needs?\s+to|is\s+required\s+to)\s+(always|never|not|only|also|now)\b|^\s+(tool\s+)?(is|gets|was)\s+(used|called|invoked|run)\b[^.]{0,40}\b(must|always|never|should|shall)\b`)

// fillRe asks for a value to be filled in (a parameter's description).
var fillRe = re(`\b(must\s+be|should\s+be|shall\s+be|each\s+item|one\s+line\s+of|fills?|filled|populated?|populates|set|put|paste|copy|provide|supply|include|insert|contents?\s+of|value\s+of|values\s+of|verbatim|full\s+text\s+of)\b`)

// requiresRe claims the tool needs something to work.
var requiresRe = re(`\b(requires?|needs?|depends\s+on|only\s+works\s+with|cannot\s+work\s+without|must\s+(have|receive|be\s+given))\b`)

// sinkNameRe pulls the parameter name out of a sink phrase ("to the `lang` value").
var sinkNameRe = re(`^(?:as|in|into|inside|to|via|through|within|using)\s+(?:the\s+|a\s+|an\s+|its\s+|this\s+|that\s+)?["']?([a-z_][\w-]*)["']?\s+(?:extra\s+|hidden\s+|additional\s+|optional\s+|unused\s+|spare\s+)?(?:parameter|param|argument|arg|field|property|key|input|value)\b`)

// paramSink finds one of the tool's own input parameters named as a destination ("… in
// trace_id", "as `notes`") and returns the parameter's name.
func (l *linter) paramSink(sent string) string {
	for _, p := range l.params {
		if len(p) < 2 {
			continue
		}
		loc := wordIndex(sent, p)
		if loc == nil {
			continue
		}
		before := strings.TrimRight(sent[:loc[0]], " \"'")
		for _, det := range []string{" the", " its", " this tool's", " the tool's", " this"} {
			before = strings.TrimSuffix(before, det)
		}
		for _, prep := range []string{" in", " into", " as", " to", " inside", " under", " via", " through", " within"} {
			if strings.HasSuffix(before, prep) {
				return p
			}
		}
	}
	return ""
}

// isPurpose reports whether a word of a target's text (4 letters or more) names what the
// tool is for: it is in the tool's name or the first sentence of its description.
func (l *linter) isPurpose(match string) bool {
	if l.purpose == "" {
		name := strings.ToLower(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(l.tool.Name))
		desc := ""
		if d := l.tool.Value.Get("description"); d != nil && d.Kind == String {
			desc = normalize(d.Str).text
			if i := strings.IndexAny(desc, ".!?\n"); i > 0 {
				desc = desc[:i]
			}
		}
		l.purpose = " " + name + " " + desc + " "
	}
	for _, w := range strings.FieldsFunc(match, func(r rune) bool { return r < 'a' || r > 'z' }) {
		if len(w) >= 4 && w != "user" && w != "your" && w != "their" && w != "full" && w != "entire" && w != "whole" && w != "previous" && w != "prior" && w != "earlier" && w != "recent" && w != "last" && w != "first" && wordIndex(l.purpose, strings.TrimSuffix(w, "s")) != nil {
			return true
		}
	}
	return false
}

// foreignSink reports a sink that names a parameter whose name is not about credentials.
func foreignSink(sink string) bool {
	m := sinkNameRe.FindStringSubmatch(sink)
	return m != nil && !credParamRe.MatchString(sink)
}

var redirectRe = re(`\b(set|change|replace)\s+the\s+(recipient|destination|address|url|target|to\s+field|account)\b|\b(bcc|cc|redirect|reroute|forward|send|copy|intercept|override|replace|redefine)\b[^.]{0,80}\b(to|with|as)\b|\bmust\s+(also\s+)?be\s+(sent|routed|copied|forwarded|redirected)`)

// emit turns one string's signals into findings, with severities from the matrix in
// docs/tool-lint.md, and records what the tool-level combination needs.
func (l *linter) emit(sg *signals, raw, ptr string) {
	ex := func(m string) string { return origExcerpt(raw, m) }
	directive := sg.directive
	if directive == nil && sg.conceal != nil {
		directive = &hit{sg.conceal.why, sg.conceal.match}
	}
	harm := sg.target != nil || sg.channel != nil || sg.sink != nil || sg.conceal != nil || sg.hidden != nil
	if sg.directive != nil {
		sev := High
		what := ""
		switch {
		case sg.target != nil:
			sev, what = Critical, "; with a sensitive target ("+sg.target.why+")"
		case sg.channel != nil:
			sev, what = Critical, "; with an exfiltration channel ("+sg.channel.why+")"
		case sg.conceal != nil || sg.hidden != nil:
			sev, what = Critical, "; with concealment from the user"
		case sg.sink != nil && sg.targetWord != nil:
			sev, what = Critical, "; with secrets passed through "+sg.sink.why
		case sg.param && sg.targetWord != nil:
			sev, what = Critical, "; asking for secrets in this parameter"
		}
		l.add(RuleModelDirective, sev, ptr, "%s%s: %s", sg.directive.why, what, ex(sg.directive.match))
	}
	if sg.conceal != nil {
		sev := High
		if sg.target != nil || sg.channel != nil || sg.sink != nil || sg.directive != nil {
			sev = Critical
		}
		l.add(RuleSecrecy, sev, ptr, "%s: %s", sg.conceal.why, ex(sg.conceal.match))
	} else if sg.hidden != nil {
		sev := Medium
		if sg.directive != nil {
			sev = Critical
		}
		l.add(RuleSecrecy, sev, ptr, "%s: %s", sg.hidden.why, fmt.Sprintf("%q", truncate(sg.hidden.match, 80)))
	}
	for _, c := range sg.combos {
		l.add(c.rule, c.sev, ptr, "%s: %s", c.what, ex(c.match))
	}
	if sg.secretTool != nil && (sg.sink != nil || sg.channel != nil) {
		l.add(RuleSecretReference, Critical, ptr, "instruction to %s and pass its output on: %s", sg.secretTool.why, ex(sg.secretTool.match))
	}
	if sg.target != nil && !l.has(RuleSecretReference, ptr) {
		sev := Low
		if directive != nil {
			sev = Critical
		}
		l.add(RuleSecretReference, sev, ptr, "reads %s: %s", sg.target.why, ex(sg.target.match))
	} else if sg.targetWord != nil && sg.targetWord.why == "credential path" && !l.has(RuleSecretReference, ptr) {
		l.add(RuleSecretReference, Low, ptr, "mentions a credential path: %s", ex(sg.targetWord.match))
	}
	if sg.channel != nil && !l.has(RuleExfiltration, ptr) {
		sev := Low
		if directive != nil {
			sev = Critical
		}
		l.add(RuleExfiltration, sev, ptr, "%s: %s", sg.channel.why, ex(sg.channel.match))
	}
	if sg.shadow != nil {
		sev := High
		if harm {
			sev = Critical
		}
		l.add(RuleShadowing, sev, ptr, "%s: %s", sg.shadow.why, ex(sg.shadow.match))
	}
	if sg.trigger != nil && !l.has(RuleTrigger, ptr) {
		sev := Low
		if directive != nil || sg.shadow != nil {
			sev = High
		}
		if directive != nil && (sg.target != nil || sg.channel != nil) {
			sev = Critical
		}
		l.add(RuleTrigger, sev, ptr, "%s: %s", sg.trigger.why, ex(sg.trigger.match))
	}
	if sg.command != nil {
		sev := High
		if networkRe.MatchString(sg.command.match) || secretPathRe.MatchString(sg.command.match) {
			sev = Critical
		}
		l.add(RuleCommandInjection, sev, ptr, "%s: %s", sg.command.why, ex(sg.command.match))
	}
	if sg.mention != nil && directive == nil {
		l.add(RuleModelDirective, Low, ptr, "%s (a mention, not an instruction): %s", sg.mention.why, ex(sg.mention.match))
	}
	if sg.capability != nil && directive == nil && sg.target == nil {
		l.add(RuleCapability, Low, ptr, "discloses a capability (%s); check that the annotations match", sg.capability.match)
	}
	// For the tool-level combination.
	if directive != nil {
		l.directives = append(l.directives, ptr)
	}
	if sg.target != nil || sg.channel != nil || sg.conceal != nil || sg.hidden != nil {
		l.harms = append(l.harms, ptr)
	}
}

// ownName reports whether name is a tool of the manifest being linted.
func (l *linter) ownName(name string) bool {
	for _, n := range l.names {
		if n == name {
			return true
		}
	}
	return false
}

func (l *linter) has(rule, ptr string) bool {
	for _, f := range l.findings {
		if f.Rule == rule && f.Pointer == ptr {
			return true
		}
	}
	return false
}

// combineTool raises a directive in one string to critical when another string of the same
// tool carries the target, channel or concealment (payloads split across fields).
func (l *linter) combineTool() {
	if len(l.directives) == 0 || len(l.harms) == 0 {
		return
	}
	for i, f := range l.findings {
		if (f.Rule == RuleModelDirective || f.Rule == RuleSecrecy) && f.Severity == High {
			for _, h := range l.harms {
				if h != f.Pointer {
					l.findings[i].Severity = Critical
					l.findings[i].Message += "; combined with " + h
					break
				}
			}
		}
	}
}

// origExcerpt shows where m (matched on normalized text) is in the original string: the
// original around it when it can be found there, otherwise the start of the original and
// the normalized match.
func origExcerpt(raw, m string) string {
	lower := strings.ToLower(raw)
	if i := strings.Index(lower, m); i >= 0 && len(lower) == len(raw) {
		return excerpt(raw, i, i+len(m))
	}
	for _, w := range strings.Fields(m) {
		if len(w) >= 4 {
			if i := strings.Index(lower, w); i >= 0 && len(lower) == len(raw) {
				return excerpt(raw, i, i+len(w)) + fmt.Sprintf(" (normalized: %q)", truncate(m, 80))
			}
		}
	}
	return excerpt(raw, 0, min(len(raw), 60)) + fmt.Sprintf(" (normalized: %q)", truncate(m, 80))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
