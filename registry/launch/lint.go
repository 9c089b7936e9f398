package launch

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Finding is one lint finding.
type Finding struct {
	// Rule is a stable id ("container.privileged", "env.loader", "shell.remote-code", …).
	Rule string `json:"rule"`
	// Severity is "critical" (can take the host), "high" (changes what code runs), "medium"
	// or "low".
	Severity string `json:"severity"`
	// Pointer is the RFC 6901 pointer of the offending value in server.json.
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s at %s: %s", f.Severity, f.Rule, f.Pointer, f.Message)
}

// SeverityRank orders severities (-1 for an unknown one).
func SeverityRank(s string) int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return -1
}

type report struct {
	seen     map[string]bool
	findings []Finding
}

func (r *report) add(rule, severity, ptr, msg string) {
	k := rule + "\x00" + ptr + "\x00" + severity
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	r.findings = append(r.findings, Finding{Rule: rule, Severity: severity, Pointer: ptr, Message: msg})
}

// Lint judges a launch configuration. Findings are sorted, most severe first, then by
// pointer; an honest configuration has none.
func Lint(cfg *Config) []Finding {
	r := &report{seen: map[string]bool{}}
	for i, p := range cfg.Packages {
		lintPackage(r, p, "/packages/"+strconv.Itoa(i))
	}
	for i, rm := range cfg.Remotes {
		at := "/remotes/" + strconv.Itoa(i)
		headers(r, rm.Headers, at+"/headers")
	}
	sort.SliceStable(r.findings, func(i, j int) bool {
		a, b := r.findings[i], r.findings[j]
		if ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		return a.Rule < b.Rule
	})
	return r.findings
}

// knownRuntimes are runtime hints that clients know how to run.
var knownRuntimes = set("npx", "uvx", "docker", "podman", "dnx", "node", "python", "deno", "bun", "bunx", "pnpm", "pnpx",
	"yarn", "pipx", "uv", "java", "dotnet", "go", "nerdctl", "finch", "cargo", "gem", "ruby", "php", "npm")

func lintPackage(r *report, p Package, at string) {
	hint := strings.TrimSpace(p.RuntimeHint)
	rt := command(hint)
	switch {
	case hint == "":
	case strings.ContainsAny(hint, " \t\n|;&$`()<>'\"\\/"):
		r.add("runtime.hint", High, at+"/runtimeHint", "runtimeHint "+quote(hint)+" is not a plain runtime name; a client may run it as a command line")
	case shells[rt]:
		r.add("runtime.hint", High, at+"/runtimeHint", "runtimeHint "+quote(hint)+" names a shell: the arguments become a script")
	case !knownRuntimes[rt] && evalFlags[rt] == nil:
		r.add("runtime.hint", Low, at+"/runtimeHint", "runtimeHint "+quote(hint)+" is not a runtime MCP clients know")
	}
	container := containerRuntimes[rt] || strings.EqualFold(p.RegistryType, "oci")
	runtimeArgv := argvReadings(p.RuntimeArguments, at+"/runtimeArguments")
	packageArgv := argvReadings(p.PackageArguments, at+"/packageArguments")
	var entrypoints []token
	for _, argv := range runtimeArgv {
		if container {
			containerLint(r, argv)
			for _, f := range parseFlags(argv) {
				if f.name == "entrypoint" && f.hasVal {
					entrypoints = append(entrypoints, token{f.value, f.valPtr, f.value})
				}
			}
		} else {
			runtimeFlags(r, rt, argv)
			invocations(r, append([]token{{hint, at + "/runtimeHint", hint}}, argv...))
		}
		values(r, argv)
	}
	for _, argv := range packageArgv {
		invocations(r, argv)
		for _, ep := range entrypoints {
			invocations(r, append(entryTokens(ep), argv...))
		}
		values(r, argv)
	}
	for i, e := range p.Environment {
		ep := at + "/environmentVariables/" + strconv.Itoa(i)
		alts := e.alternatives(ep)
		fixed, val := len(alts) > 0 && !userInput(alts[0].text), ""
		if fixed {
			val = alts[0].text
		}
		envName(r, e.Name, ep+"/name", fixed, val)
		for _, a := range alts {
			if !userInput(a.text) {
				shellPayload(r, a.text, a.ptr, false)
			}
		}
	}
	headers(r, p.Headers, at+"/transport/headers")
}

// entryTokens reads an --entrypoint value as the words it runs.
func entryTokens(ep token) []token {
	var out []token
	for _, w := range SplitWords(ep.text) {
		out = append(out, token{w, ep.ptr, ep.raw})
	}
	return out
}

// values judges each fixed value as text a shell may run (once per value).
func values(r *report, argv []token) {
	seen := map[string]bool{}
	for _, t := range argv {
		if t.raw == "" || seen[t.ptr] {
			continue
		}
		seen[t.ptr] = true
		shellPayload(r, t.raw, t.ptr, false)
	}
}

// runtimeFlags are options of package runners and interpreters that change what code runs:
// another package, another index or registry, preloaded modules.
var runtimeFlagRules = map[string]struct{ rule, reason string }{
	"--package":             {"runtime.package-source", "runs another package"},
	"--call":                {"shell.command", "runs a command line"},
	"--registry":            {"runtime.package-source", "installs from another registry"},
	"--node-options":        {"runtime.interpreter-hook", "passes options (preloads) to node"},
	"--userconfig":          {"runtime.package-source", "reads another npm configuration"},
	"--from":                {"runtime.package-source", "runs the tool from another package"},
	"--with":                {"runtime.package-source", "installs extra packages"},
	"--with-editable":       {"runtime.package-source", "installs extra packages"},
	"--with-requirements":   {"runtime.package-source", "installs extra packages"},
	"--index-url":           {"runtime.package-source", "installs from another index"},
	"--extra-index-url":     {"runtime.package-source", "installs from another index"},
	"--index":               {"runtime.package-source", "installs from another index"},
	"--default-index":       {"runtime.package-source", "installs from another index"},
	"--find-links":          {"runtime.package-source", "installs from other locations"},
	"--add-source":          {"runtime.package-source", "installs from another feed"},
	"--source":              {"runtime.package-source", "installs from another feed"},
	"--spec":                {"runtime.package-source", "runs another package"},
	"--require":             {"runtime.interpreter-hook", "preloads a module"},
	"--import":              {"runtime.interpreter-hook", "preloads a module"},
	"--loader":              {"runtime.interpreter-hook", "installs a module loader"},
	"--experimental-loader": {"runtime.interpreter-hook", "installs a module loader"},
	"--preload":             {"runtime.interpreter-hook", "preloads a module"},
	"--allow-all":           {"runtime.sandbox", "lifts the runtime's sandbox"},
	"--allow-run":           {"runtime.sandbox", "lets the program run any subprocess"},
	"--allow-ffi":           {"runtime.sandbox", "lets the program load native code"},
	"--inspect":             {"runtime.debugger", "opens a debugger port through which anyone reaching it runs code"},
	"--inspect-brk":         {"runtime.debugger", "opens a debugger port through which anyone reaching it runs code"},
	"--inspect-wait":        {"runtime.debugger", "opens a debugger port through which anyone reaching it runs code"},
	"--trusted-host":        {"runtime.package-source", "accepts an index without TLS verification"},
	"--allow-insecure-host": {"runtime.package-source", "accepts an index without TLS verification"},
}

// shortRuntimeFlags are, per runner, short options with the same effect.
var shortRuntimeFlags = map[string]map[string]string{
	"npx":  {"-p": "--package", "-c": "--call"},
	"pnpx": {"-p": "--package", "-c": "--call"},
	"pnpm": {"-p": "--package", "-c": "--call"},
	"uvx":  {"-i": "--index-url", "-f": "--find-links", "-w": "--with"},
	"uv":   {"-i": "--index-url", "-f": "--find-links", "-w": "--with"},
	"pipx": {"-i": "--index-url"},
	"dnx":  {"-s": "--source"},
	"deno": {"-A": "--allow-all"},
}

func runtimeFlags(r *report, rt string, argv []token) {
	for _, t := range argv {
		name, _, _ := strings.Cut(t.text, "=")
		if long, ok := shortRuntimeFlags[rt][name]; ok {
			name = long
		}
		if rule, ok := runtimeFlagRules[strings.ToLower(name)]; ok {
			sev := High
			if rule.rule == "runtime.sandbox" && name != "--allow-all" {
				sev = Medium
			}
			r.add(rule.rule, sev, t.ptr, t.text+" "+rule.reason+": what runs is not the package that was verified")
		}
	}
}

var (
	credentialHeader = regexp.MustCompile(`(?i)^(authorization|proxy-authorization|cookie|set-cookie)$|auth|token|secret|api[-_]?key|apikey|password|passwd|session|credential|signature|private[-_]?key|access[-_]?key|client[-_]?id|bearer|^x-key$|^key$`)
	schemeRE         = regexp.MustCompile(`(?i)^\s*(bearer|basic|token|bot|digest|apikey|api-key|key|sso-key|dpop|mac|hawk|aws4-hmac-sha256|negotiate|ntlm)\s+(.+)$`)
	tokenPrefixRE    = regexp.MustCompile(`(ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|gldt-|sk-[A-Za-z0-9]|sk_live_|sk_test_|rk_live_|pk_live_|xox[abposr]-|xapp-|AKIA[0-9A-Z]{12}|ASIA[0-9A-Z]{12}|AIza[0-9A-Za-z_-]{20}|ya29\.|npm_[A-Za-z0-9]{20}|pypi-[A-Za-z0-9_-]{20}|hf_[A-Za-z0-9]{20}|dop_v1_|shpat_|shpss_|SG\.[A-Za-z0-9_-]{10}|key-[0-9a-f]{20}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`)
)

// headers finds headers whose value the publisher fixed to something that looks like a
// credential: the same secret for every user, readable by anyone who reads the registry.
func headers(r *report, hs []KeyValue, at string) {
	for i, h := range hs {
		hp := at + "/" + strconv.Itoa(i)
		for _, a := range h.alternatives(hp) {
			if userInput(a.text) {
				continue
			}
			cred := a.text
			if m := schemeRE.FindStringSubmatch(a.text); m != nil {
				cred = m[2]
			}
			if userInput(cred) {
				continue // "Bearer {token}": the user supplies it
			}
			fixedCred := strings.TrimSpace(placeholderRE.ReplaceAllString(cred, ""))
			switch {
			case tokenPrefixRE.MatchString(a.text):
				r.add("headers.fixed-secret", High, a.ptr, "header "+h.Name+" carries a fixed token (a known credential format); declare it as an input with isSecret and a {placeholder} instead")
			case h.IsSecret:
				r.add("headers.fixed-secret", High, a.ptr, "header "+h.Name+" is marked isSecret but has a fixed value: every user sends the publisher's secret")
			case credentialHeader.MatchString(h.Name) && fixedCred != "":
				r.add("headers.fixed-secret", High, a.ptr, "header "+h.Name+" carries a fixed credential; declare it as an input with isSecret and a {placeholder} instead")
			case schemeRE.MatchString(a.text) && fixedCred != "", looksRandom(fixedCred):
				r.add("headers.fixed-secret", High, a.ptr, "header "+h.Name+" carries a fixed value that looks like a secret")
			}
		}
	}
}

// looksRandom reports a long single word of mixed letters and digits with high entropy, as
// API keys are.
func looksRandom(s string) bool {
	if len(s) < 20 || strings.ContainsAny(s, " \t") {
		return false
	}
	var letters, digits int
	freq := map[rune]int{}
	for _, c := range s {
		freq[c]++
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		}
	}
	if letters == 0 || digits == 0 {
		return false
	}
	var h float64
	n := float64(len([]rune(s)))
	for _, k := range freq {
		p := float64(k) / n
		h -= p * math.Log2(p)
	}
	return h >= 3.5
}
