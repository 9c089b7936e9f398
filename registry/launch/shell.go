package launch

import (
	"path"
	"regexp"
	"strings"
)

var (
	shells = set("sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "busybox", "rbash",
		"cmd", "powershell", "pwsh", "command.com")
	// interpreters run a program given as text, or read one from a pipe.
	interpreters = set("python", "python2", "python3", "pypy", "pypy3", "node", "nodejs", "bun", "deno", "perl", "ruby", "php",
		"lua", "luajit", "tclsh", "wish", "osascript", "awk", "gawk", "mawk", "nawk", "r", "rscript", "iex", "invoke-expression",
		"source", ".", "eval", "exec", "xargs", "env", "sudo", "su", "nohup", "timeout", "npx", "bunx", "uvx", "pipx")
	downloaders = set("curl", "wget", "fetch", "aria2c", "axel", "httpie", "http", "https", "lwp-download", "lwp-request",
		"invoke-webrequest", "iwr", "invoke-restmethod", "irm", "certutil", "bitsadmin", "ftp", "tftp", "scp", "rsync", "nc",
		"ncat", "netcat", "socat", "openssl", "git")
)

// reverseShellRE finds the usual ways of handing a shell to a remote listener: bash's
// /dev/tcp and /dev/udp files, netcat and socat executing a program, named-pipe relays,
// PowerShell TCP clients.
var reverseShellRE = regexp.MustCompile(`/dev/(tcp|udp)/|\b(nc|ncat|netcat)\b[^|;&]*\s-[a-z]*[ec]\b|\bsocat\b[^|;&]*\b(exec|system):|\bmkfifo\b[^;&]*\b(nc|ncat|netcat|openssl|telnet)\b|\bnet\.sockets\.tcpclient\b|\bsocket\.socket\b[^;]*\bconnect\b[^;]*\b(dup2|subprocess|pty)\b`)

// remoteCodeArgRE finds a URL to a program or library (by its extension) given as a value:
// a server started with --config https://host/x.js or --plugin https://host/p.py loads code
// nobody verified.
var remoteCodeArgRE = regexp.MustCompile(`(?i)\b(https?|ftp)://[^\s"'<>]+\.(js|mjs|cjs|ts|py|pyc|sh|bash|ps1|psm1|rb|pl|php|jar|so|dll|dylib|exe|wasm|node)(\?[^\s"'<>]*)?\b`)

// command is a program name as a shell resolves it: base name, lower case, without .exe.
func command(w string) string {
	w = strings.ReplaceAll(w, `\`, "/")
	b := strings.ToLower(path.Base(w))
	for _, ext := range []string{".exe", ".cmd", ".bat", ".com"} {
		b = strings.TrimSuffix(b, ext)
	}
	if strings.HasPrefix(b, "python") && strings.Trim(b[len("python"):], "0123456789.") == "" {
		return "python"
	}
	return b
}

// shellPayload judges text that a shell may run. inShell is true when the text is known to be
// run by a shell (the argument of sh -c), false when it is any fixed value (a client that
// joins arguments into a command line runs it too).
func shellPayload(r *report, text, ptr string, inShell bool) {
	if m := reverseShellRE.FindString(strings.ToLower(text)); m != "" {
		r.add("shell.reverse-shell", Critical, ptr, "opens a shell to another host ("+quote(text)+"): whoever listens there runs commands with the client's rights")
		return
	}
	if m := remoteCodeArgRE.FindString(text); m != "" {
		r.add("shell.remote-code", High, ptr, "points the server at code on another host ("+quote(m)+"): what it loads was never signed, scanned or reviewed")
	}
	if !strings.ContainsAny(text, "|;&`$()<>\n") {
		return
	}
	toks := Lex(text)
	var (
		subst, ops, pipeToInterp, fetch, exec bool
		first                                 = true
		afterPipe                             bool
	)
	for _, t := range toks {
		if t.Kind == Op {
			switch t.Text {
			case "$(", "`", "<(", ">(":
				subst = true
				first = true
			case "|", "||", "&&", ";", "&", "(", ")":
				ops = true
				first = true
				afterPipe = t.Text == "|"
			}
			continue
		}
		if strings.Contains(t.Text, "://") {
			fetch = true
		}
		if !first {
			continue
		}
		if i := strings.IndexByte(t.Text, '='); i > 0 && envNameRE.MatchString(t.Text[:i]) {
			continue // an assignment before the command
		}
		first = false
		c := command(t.Text)
		if downloaders[c] {
			fetch = true
		}
		if shells[c] || interpreters[c] {
			exec = true
			if afterPipe {
				pipeToInterp = true
			}
		}
		afterPipe = false
	}
	switch {
	case fetch && (pipeToInterp || (exec && (ops || subst)) || (inShell && subst)):
		r.add("shell.remote-code", Critical, ptr, "downloads code and runs it ("+quote(text)+"): what runs was never signed, scanned or reviewed")
	case pipeToInterp:
		r.add("shell.pipe-to-interpreter", High, ptr, "pipes text into a shell or interpreter ("+quote(text)+")")
	case subst:
		r.add("shell.substitution", High, ptr, "uses command substitution ("+quote(text)+"): a shell runs another command to build the argument")
	case ops && inShell:
		r.add("shell.operators", High, ptr, "chains shell commands ("+quote(text)+")")
	case ops && containsOp(toks, "|", "||", "&&", ";"):
		r.add("shell.operators", Medium, ptr, "holds shell control operators ("+quote(text)+"); a client that builds a command line runs more than one command")
	}
}

func containsOp(toks []Tok, ops ...string) bool {
	for _, t := range toks {
		if t.Kind == Op {
			for _, o := range ops {
				if t.Text == o {
					return true
				}
			}
		}
	}
	return false
}

// evalFlags are, per interpreter, the options whose argument is a program.
var evalFlags = map[string][]string{
	"python": {"-c"}, "pypy": {"-c"}, "pypy3": {"-c"},
	"node":   {"-e", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader", "--experimental-loader"},
	"nodejs": {"-e", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader", "--experimental-loader"},
	"bun":    {"-e", "--eval", "-p", "--print", "-r", "--preload"},
	"deno":   {"eval"},
	"perl":   {"-e", "-E", "-M", "-m"},
	"ruby":   {"-e", "-r"},
	"php":    {"-r", "-B", "-R", "-E", "-F", "-d"},
	"lua":    {"-e", "-l"}, "luajit": {"-e", "-l"},
	"osascript": {"-e"},
}

// invocations finds shells and interpreters invoked with a program in the argv: sh -c X,
// bash -lc X, cmd /c X, pwsh -Command X, python -c X, node -e X, … and judges X as a shell
// payload. A leading -c whose argument has shell syntax is judged too: the image's own
// entrypoint may be a shell.
func invocations(r *report, argv []token) {
	for i := 0; i < len(argv); i++ {
		c := command(argv[i].text)
		switch {
		case c == "busybox" && i+1 < len(argv) && shells[command(argv[i+1].text)]:
			continue
		case shells[c]:
			for j := i + 1; j < len(argv); j++ {
				w := argv[j].text
				lw := strings.ToLower(w)
				isCmd := (c == "cmd" || c == "command.com") && (lw == "/c" || lw == "/k" || lw == "/r")
				isPS := (c == "powershell" || c == "pwsh") && strings.HasPrefix(lw, "-") && len(lw) >= 2 &&
					(strings.HasPrefix("-command", lw) || strings.HasPrefix("-encodedcommand", lw) || lw == "-ec" ||
						strings.HasPrefix("-commandwithargs", lw) || lw == "-cwa" || strings.HasPrefix("-file", lw))
				isSh := !strings.HasPrefix(w, "--") && strings.HasPrefix(w, "-") && strings.Contains(w[1:], "c") && c != "cmd" && c != "powershell" && c != "pwsh"
				if isCmd || isPS || isSh {
					r.add("shell.command", High, argv[i].ptr, argv[i].text+" "+w+" runs a command line instead of the server: "+payloadAt(argv, j+1))
					if j+1 < len(argv) {
						shellPayload(r, payload(argv, j), argv[j+1].ptr, true)
					}
					break
				}
				if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "/") && !strings.HasPrefix(w, "+") {
					break
				}
			}
		case evalFlags[c] != nil:
			for j := i + 1; j < len(argv) && j < i+8; j++ {
				w := argv[j].text
				name, _, _ := strings.Cut(w, "=")
				for _, ef := range evalFlags[c] {
					if name == ef || (len(ef) == 2 && ef[0] == '-' && strings.HasPrefix(w, ef) && !strings.HasPrefix(w, "--")) {
						r.add("interpreter.eval", High, argv[j].ptr, argv[i].text+" "+w+" runs or preloads code given on the command line: "+payloadAt(argv, j+1))
						if j+1 < len(argv) {
							shellPayload(r, payload(argv, j), argv[j+1].ptr, false)
						}
						j = len(argv)
						break
					}
				}
			}
		case argv[i].text == "-c" && i+1 < len(argv):
			shellPayload(r, payload(argv, i), argv[i+1].ptr, true)
		}
	}
}

func payloadAt(argv []token, j int) string {
	if j >= len(argv) {
		return "(no argument)"
	}
	return quote(payload(argv, j-1))
}

// payload is the program text following the option at j: the next word, or, when that word
// begins an argument of its own, the whole argument as written (sh -c takes one argv element,
// whatever blanks it holds).
func payload(argv []token, j int) string {
	next := argv[j+1]
	if next.raw != "" && next.ptr != argv[j].ptr {
		return next.raw
	}
	return next.text
}
