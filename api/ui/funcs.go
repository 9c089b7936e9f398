package ui

import (
	"encoding/json"
	"html/template"
	"sort"
	"strings"
	"time"

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
	"wordDiff":     wordDiff,
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
