package toolmanifest

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

var standardNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// wellKnownTools are tool names of widely installed MCP servers, used when the caller gives
// no list of its own: a new server that reuses or imitates them can capture calls meant for
// them.
var wellKnownTools = map[string][]string{
	"filesystem": {"read_file", "read_text_file", "read_multiple_files", "write_file", "edit_file", "create_directory", "list_directory", "directory_tree", "move_file", "search_files", "get_file_info", "list_allowed_directories"},
	"github":     {"create_issue", "create_pull_request", "push_files", "get_file_contents", "search_repositories", "create_or_update_file", "create_repository", "fork_repository", "merge_pull_request", "list_issues"},
	"git":        {"git_status", "git_diff", "git_commit", "git_add", "git_log", "git_checkout", "git_create_branch"},
	"fetch":      {"fetch"},
	"slack":      {"slack_post_message", "slack_list_channels", "slack_reply_to_thread", "slack_get_channel_history"},
	"gmail":      {"send_email", "read_email", "search_emails", "draft_email"},
	"memory":     {"create_entities", "create_relations", "add_observations", "read_graph", "search_nodes"},
	"brave":      {"brave_web_search", "brave_local_search"},
	"puppeteer":  {"puppeteer_navigate", "puppeteer_screenshot", "puppeteer_click", "puppeteer_evaluate"},
	"shell":      {"execute_command", "run_command", "run_shell_command"},
	"postgres":   {"query"},
}

// wellKnownOwners are the organizations (GitHub organization or npm scope) that publish
// the well-known servers: a manifest named after one of them from any other namespace is not
// taken to be it. Servers not listed are recognized by name alone.
var wellKnownOwners = map[string][]string{
	"filesystem": {"modelcontextprotocol"},
	"git":        {"modelcontextprotocol"},
	"fetch":      {"modelcontextprotocol"},
	"memory":     {"modelcontextprotocol"},
	"puppeteer":  {"modelcontextprotocol"},
	"postgres":   {"modelcontextprotocol"},
	"slack":      {"modelcontextprotocol", "zencoderai"},
	"brave":      {"modelcontextprotocol", "brave"},
	"github":     {"modelcontextprotocol", "github"},
}

var scriptTables = map[string]*unicode.RangeTable{
	"Latin": unicode.Latin, "Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek, "Armenian": unicode.Armenian,
	"Cherokee": unicode.Cherokee, "Hebrew": unicode.Hebrew, "Arabic": unicode.Arabic, "Han": unicode.Han,
	"Hiragana": unicode.Hiragana, "Katakana": unicode.Katakana, "Hangul": unicode.Hangul,
	"Devanagari": unicode.Devanagari, "Thai": unicode.Thai, "Georgian": unicode.Georgian,
}

// skeleton folds width and look-alike letters to ASCII where it can.
func skeleton(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if r >= 0x80 {
			b.WriteString(asciiLookalike(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// collisionKey is the form under which two names count as the same to a reader:
// skeleton, lower case, separators removed, digits read as the letters they resemble.
func collisionKey(s string) string {
	k := strings.ToLower(skeleton(s))
	k = strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		case '0':
			return 'o'
		case '1':
			return 'l'
		case '3':
			return 'e'
		case '5':
			return 's'
		case '4':
			return 'a'
		}
		return r
	}, k)
	return strings.ReplaceAll(strings.ReplaceAll(k, "rn", "m"), "vv", "w")
}

func separatorKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r == ' ' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

func scriptsOf(s string) []string {
	var out []string
	for _, r := range s {
		for name, tab := range scriptTables {
			if unicode.Is(tab, r) && !strings.Contains(strings.Join(out, ","), name) {
				out = append(out, name)
			}
		}
	}
	return sortedUnique(out)
}

func isCJKMix(scripts []string) bool {
	for _, s := range scripts {
		if s != "Han" && s != "Hiragana" && s != "Katakana" && s != "Hangul" {
			return false
		}
	}
	return true
}

func (l *linter) lintName() {
	name := l.tool.Name
	const ptr = "/name"
	if !standardNameRe.MatchString(name) {
		l.add(RuleNonstandardName, Low, ptr, "tool name %q is outside [A-Za-z0-9_.-]{1,128}", quoteInvisible(name))
	}
	sk := skeleton(name)
	scripts := scriptsOf(name)
	switch {
	case sk != name && isASCII(sk):
		l.add(RuleConfusableName, High, ptr, "tool name %q uses look-alike characters; it reads as %q", quoteInvisible(name), sk)
	case len(scripts) > 1 && !isCJKMix(scripts):
		l.add(RuleConfusableName, Medium, ptr, "tool name %q mixes scripts (%s)", quoteInvisible(name), strings.Join(scripts, ", "))
	}
	key := collisionKey(name)
	for _, other := range l.names {
		if other == name {
			continue
		}
		if collisionKey(other) == key {
			l.add(RuleNameMimicry, High, ptr, "tool name %q is indistinguishable from tool %q of the same server", quoteInvisible(name), other)
		}
	}
	for server, tools := range l.others {
		if l.ownServer[server] {
			continue
		}
		for _, other := range tools {
			switch {
			case other == name:
				l.add(RuleNameCollision, Low, ptr, "tool name %q is also a tool of the well-known %s server: hosts may route calls to the wrong one", name, server)
			case collisionKey(other) == key && separatorKey(other) == separatorKey(name):
				l.add(RuleNameMimicry, Medium, ptr, "tool name %q differs from %q (%s server) only by case or separators", name, other, server)
			case collisionKey(other) == key:
				l.add(RuleNameMimicry, High, ptr, "tool name %q imitates %q of the %s server with look-alike characters", quoteInvisible(name), other, server)
			}
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ownServers returns the well-known servers a manifest is: the one its identity names
// ("@modelcontextprotocol/server-filesystem", "io.github.x/filesystem-mcp" → filesystem),
// and any whose tools it mostly carries (the server itself, a fork or a new version).
func ownServers(identity string, names []string, others map[string][]string, builtin bool) map[string]bool {
	own := map[string]bool{}
	org, id := splitIdentity(identity)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for server, tools := range others {
		if id != "" && id == strings.ToLower(server) {
			// The manifest claims the well-known server's name. It is that server unless the
			// name is published from another namespace than the server's known owners: then
			// its tools are what an impersonation would copy, not a fork's.
			if owners, known := wellKnownOwners[server]; !builtin || !known || org == "" || slices.Contains(owners, org) {
				own[server] = true
			}
			continue
		}
		n := 0
		for _, t := range tools {
			if have[t] {
				n++
			}
		}
		if len(tools) > 1 && n*2 >= len(tools) {
			own[server] = true
		}
	}
	return own
}

// splitIdentity splits a server identity — a registry name (io.github.acme/server-x), an
// npm package (@acme/server-x@1.2.0, npm:…), a repository (acme/x) or a bare name — into
// the owning organization (lower case; io.github. and @ removed; "" when there is none) and
// the server's short name (lower case, MCP affixes removed).
func splitIdentity(identity string) (org, id string) {
	id = strings.ToLower(identity)
	if i := strings.LastIndex(id, "/"); i >= 0 {
		org, id = id[:i], id[i+1:]
	}
	if i := strings.LastIndexAny(org, ":/"); i >= 0 {
		org = org[i+1:]
	}
	if i := strings.LastIndex(id, ":"); i >= 0 {
		id = id[i+1:]
	}
	org = strings.TrimPrefix(strings.TrimPrefix(org, "@"), "io.github.")
	if i := strings.Index(id, "@"); i > 0 {
		id = id[:i]
	}
	for _, affix := range []string{"mcp-server-", "server-", "mcp-", "-mcp-server", "-mcp", "-server"} {
		id = strings.TrimPrefix(strings.TrimSuffix(id, affix), affix)
	}
	return org, id
}
