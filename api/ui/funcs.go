package ui

import (
	"bytes"
	"encoding/json"
	"html/template"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vetted-dev/vetted/registry"
)

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"short": func(s string) string {
		if h, ok := strings.CutPrefix(s, "sha256:"); ok && len(h) > 12 {
			return "sha256:" + h[:12] + "…"
		}
		if len(s) > 12 && !strings.ContainsAny(s, " /") {
			return s[:12] + "…"
		}
		return s
	},
	"join":       func(ss []string) string { return strings.Join(ss, ", ") },
	"kind":       registry.ReviewKind,
	"versionURL": VersionURL,
	"scanURL": func(name, version, format string) string {
		return Prefix + "/scan/" + keyPath(name, version) + "/" + format
	},
	"subjectLink":  subjectLink,
	"eventSummary": eventSummary,
	"eventDetails": eventDetails,
	"wordDiff":     wordDiff,
	"toolsOf": func(ts []toolRow, kind string) []string {
		var out []string
		for _, t := range ts {
			if t.Kind == kind {
				out = append(out, t.Name)
			}
		}
		return out
	},
	"changedSections": func(ss []launchSection) []string {
		var out []string
		for _, s := range ss {
			if s.Kind != "unchanged" {
				out = append(out, s.Label+" ("+s.Kind+")")
			}
		}
		return out
	},
}

// subjectLink links an audit subject "name@version" to its version page.
func subjectLink(s string) template.HTML {
	name, version, ok := strings.Cut(s, "@")
	if !ok || strings.Count(name, "/") != 1 || version == "" {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(`<a href="` + template.HTMLEscapeString(VersionURL(name, version)) + `">` + template.HTMLEscapeString(s) + `</a>`)
}

// eventSummary shows an audit event's data as "key: value" pairs, the telling ones first.
func eventSummary(data json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return string(data)
	}
	first := []string{"action", "decision", "reason", "why", "id", "outcome"}
	var parts []string
	seen := map[string]bool{}
	add := func(k string) {
		v, ok := m[k]
		if !ok || seen[k] {
			return
		}
		seen[k] = true
		var s string
		switch x := v.(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if len(s) > 120 {
			s = s[:120] + "…"
		}
		parts = append(parts, k+": "+s)
	}
	for _, k := range first {
		add(k)
	}
	var rest []string
	for k := range m {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		if len(parts) >= 5 {
			break
		}
		add(k)
	}
	return strings.Join(parts, "; ")
}

// wordDiff renders toolmanifest's "[-removed-] {+added+}" word diff with del and ins.
func wordDiff(s string) template.HTML {
	s = reveal(s)
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, "[{")
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		s = s[i:]
		open, end, tag := "[-", "-]", "del"
		if s[0] == '{' {
			open, end, tag = "{+", "+}", "ins"
		}
		if !strings.HasPrefix(s, open) {
			b.WriteString(template.HTMLEscapeString(s[:1]))
			s = s[1:]
			continue
		}
		j := strings.Index(s[2:], end)
		if j < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString("<" + tag + ">" + template.HTMLEscapeString(s[2:2+j]) + "</" + tag + ">")
		s = s[2+j+2:]
	}
	return template.HTML(b.String())
}

// eventDetails shows an audit event's data as a short text summary — the decision or
// action, the checks that did not pass, the reason, digests shortened with the full value in
// the title — and the whole JSON only behind a "details" disclosure.
func eventDetails(data json.RawMessage) template.HTML {
	esc := template.HTMLEscapeString
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return template.HTML(`<span title="` + esc(string(data)) + `">` + esc(cutWords(string(data), 120)) + `</span>`)
	}
	str := func(k string) string {
		var s string
		if json.Unmarshal(m[k], &s) != nil {
			return ""
		}
		return s
	}
	var parts []string
	for _, k := range []string{"decision", "action"} {
		if s := str(k); s != "" {
			parts = append(parts, `<strong>`+esc(s)+`</strong>`)
		}
	}
	if from, to := str("from"), str("to"); from != "" && to != "" {
		parts = append(parts, esc(from)+" → "+esc(to))
	}
	var checks []registry.Check
	if json.Unmarshal(m["checks"], &checks) == nil {
		for _, c := range checks {
			if c.Outcome == registry.Pass {
				continue
			}
			name := c.Name
			if c.Package != "" {
				name += " [" + c.Package + "]"
			}
			parts = append(parts, `<span class="outcome o-`+esc(string(c.Outcome))+`">`+esc(string(c.Outcome))+`</span> `+esc(name)+
				`: <span title="`+esc(c.Reason)+`">`+esc(cutWords(c.Reason, 160))+`</span>`)
		}
	}
	for _, k := range []string{"reason", "why", "id", "outcome", "component", "expires"} {
		if s := str(k); s != "" {
			parts = append(parts, esc(k)+`: <span title="`+esc(s)+`">`+esc(cutWords(s, 160))+`</span>`)
		}
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s := str(k); s != "" && strings.Contains(strings.ToLower(k), "digest") {
			parts = append(parts, esc(k)+` <code title="`+esc(s)+`">`+esc(shortDigest(s))+`</code>`)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(parts, " · "))
	var pretty bytes.Buffer
	if json.Indent(&pretty, data, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(data)
	}
	b.WriteString(`<details class="raw"><summary>details</summary><pre>` + esc(pretty.String()) + `</pre></details>`)
	return template.HTML(b.String())
}

// shortDigest is "sha256:" and the first 12 hex digits of a digest; other text is kept.
func shortDigest(s string) string {
	if h, ok := strings.CutPrefix(s, "sha256:"); ok && len(h) > 12 {
		return "sha256:" + h[:12] + "…"
	}
	return s
}

// cutWords cuts s to at most n bytes at a word boundary, marking the cut with "…". Text is
// never lower-cased or cut inside a word unless a single word is longer than n.
func cutWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	if i := strings.LastIndexAny(cut, " \t\n"); i > n/2 {
		cut = cut[:i]
	} else {
		for len(cut) > 0 && !utf8.RuneStart(s[len(cut)]) {
			cut = cut[:len(cut)-1]
		}
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}
