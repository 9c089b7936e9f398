package launch

import (
	"regexp"
	"strings"
)

// Environment variable rules. Each family is a rule over the (upper-cased) name, not a list of
// examples: a name that steers the dynamic loader, an interpreter's start-up, a shell's
// start-up, the command search path, a package source, or a helper program that tools execute
// changes what code runs (high). Matching ignores case: Windows and npm read these names
// case-insensitively, and a lint should not be dodged by spelling.

// EnvFinding is what the rules say about one environment variable name.
type EnvFinding struct {
	Rule     string
	Severity string
	Reason   string
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type envFamily struct {
	rule, severity, reason string
	match                  func(n string) bool
}

func exact(names ...string) func(string) bool {
	s := set(names...)
	return func(n string) bool { return s[n] }
}

func re(expr string) func(string) bool {
	r := regexp.MustCompile(expr)
	return r.MatchString
}

// benignPython are PYTHON* variables that tune the interpreter without choosing code; every
// other PYTHON* name is treated as a start-up hook (the family grows: PYTHONSTARTUP,
// PYTHONPATH, PYTHONHOME, PYTHONUSERBASE, PYTHONBREAKPOINT, PYTHONWARNINGS, PYTHON_PRESITE…).
var benignPython = set("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONHASHSEED",
	"PYTHONUTF8", "PYTHONOPTIMIZE", "PYTHONDEBUG", "PYTHONVERBOSE", "PYTHONNOUSERSITE", "PYTHONSAFEPATH",
	"PYTHONFAULTHANDLER", "PYTHONTRACEMALLOC", "PYTHONMALLOC", "PYTHONMALLOCSTATS", "PYTHONDEVMODE",
	"PYTHONASYNCIODEBUG", "PYTHONCOERCECLOCALE", "PYTHONLEGACYWINDOWSFSENCODING", "PYTHONLEGACYWINDOWSSTDIO",
	"PYTHONINTMAXSTRDIGITS", "PYTHONPROFILEIMPORTTIME", "PYTHONNODEBUGRANGES", "PYTHONWARNDEFAULTENCODING",
	"PYTHONTHREADDEBUG", "PYTHONDUMPREFS", "PYTHONSHOWREFCOUNT", "PYTHONSTATS", "PYTHON_COLORS", "PYTHON_BASIC_REPL",
	"PYTHON_HISTORY", "PYTHON_GIL", "PYTHON_CPU_COUNT", "PYTHON_JIT", "PYTHON_PERF_JIT_SUPPORT", "PYTHON_VERSION",
	"PYTHON_ENV", "PYTHON_KEYRING_BACKEND")

var envFamilies = []envFamily{
	{"env.loader", High, "steers the dynamic loader: it loads code of the publisher's choosing into the process",
		func(n string) bool {
			return strings.HasPrefix(n, "LD_") || strings.HasPrefix(n, "DYLD_") || strings.HasPrefix(n, "_RLD") ||
				exact("LIBPATH", "SHLIB_PATH", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "OPENSSL_CONF", "OPENSSL_ENGINES",
					"OPENSSL_MODULES", "GTK_MODULES", "GTK_PATH", "GIO_MODULE_DIR", "GST_PLUGIN_PATH", "GST_PLUGIN_SYSTEM_PATH",
					"QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH", "SASL_PATH", "MALLOC_CONF", "LD32_PRELOAD", "LD64_PRELOAD",
					"TCLLIBPATH", "MAGICK_CONFIGURE_PATH", "KRB5_CONFIG", "HOSTALIASES", "RESOLV_HOST_CONF")(n)
		}},
	{"env.interpreter", High, "is read by a language runtime at start-up: it loads or runs code before the server's own",
		func(n string) bool {
			switch {
			case strings.HasPrefix(n, "PYTHON"):
				return !benignPython[n] && n != "PYTHONHTTPSVERIFY"
			case strings.HasPrefix(n, "PERL"):
				// PERL5OPT, PERL5LIB, PERLLIB, PERL5DB, PERLIO (layers load modules), PERL_MB_OPT…
				return strings.HasPrefix(n, "PERL5") || strings.HasPrefix(n, "PERLLIB") || strings.HasPrefix(n, "PERLDB") ||
					strings.HasPrefix(n, "PERLIO") || strings.HasSuffix(n, "_OPT")
			case strings.HasPrefix(n, "RUBY"):
				// RUBYOPT, RUBYLIB, RUBYPATH, RUBYSHELL; RUBY_* only tune the VM.
				return !strings.HasPrefix(n, "RUBY_")
			case strings.HasPrefix(n, "LUA_"):
				return strings.HasPrefix(n, "LUA_PATH") || strings.HasPrefix(n, "LUA_CPATH") || strings.HasPrefix(n, "LUA_INIT")
			}
			return exact("NODE_OPTIONS", "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE", "NODE_ICU_DATA", "NODE_PRESERVE_SYMLINKS",
				"NODE_PRESERVE_SYMLINKS_MAIN", "BUN_OPTIONS", "BUN_PRELOAD", "DENO_OPTIONS", "DENO_DIR", "DENO_IMPORT_MAP",
				"ELECTRON_RUN_AS_NODE", "ELECTRON_EXTRA_LAUNCH_ARGS", "CLASSPATH", "JAVA_HOME", "JDK_HOME",
				"JRE_HOME", "_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
				"BUNDLE_PATH", "PHPRC", "PHP_INI_SCAN_DIR", "R_PROFILE", "R_PROFILE_USER", "R_ENVIRON", "R_ENVIRON_USER",
				"R_LIBS", "R_LIBS_USER", "R_LIBS_SITE", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_FLAGS", "ERL_LIBS", "ELIXIR_ERL_OPTIONS",
				"DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "DOTNET_SHARED_STORE", "DOTNET_ROOT", "DOTNET_HOST_PATH",
				"COMPLUS_DBGJITDEBUGLAUNCHSETTING", "GOFLAGS", "RUSTC_WRAPPER", "RUSTC", "RUSTFLAGS", "CARGO_BUILD_RUSTC_WRAPPER",
				"JULIA_LOAD_PATH", "JULIA_DEPOT_PATH", "GUILE_LOAD_PATH", "OCAMLPATH", "TS_NODE_COMPILER_OPTIONS", "TSX_TSCONFIG_PATH")(n) ||
				// JVM and JVM-tool option variables: JAVA_OPTS, MAVEN_OPTS, GRADLE_OPTS, SBT_OPTS, …
				re(`^_?(JAVA|JVM|JDK|JRE|MAVEN|MVN|GRADLE|SBT|ANT|CATALINA|KAFKA|HADOOP|SPARK|ES|KOTLIN|SCALA|GROOVY|JRUBY|LEIN|CLOJURE|ZOOKEEPER|HBASE|FLINK)(_[A-Z0-9]+)*_(OPTS|OPTIONS|ARGS|TOOL_OPTIONS)$`)(n) ||
				// .NET profilers and hooks: CORECLR_PROFILER, COR_PROFILER_PATH_64, DOTNET_*_PROFILER*…
				re(`^(CORECLR|COR|DOTNET|COMPLUS)_(ENABLE_)?PROFIL`)(n) || re(`^(DOTNET|COMPLUS)_.*(STARTUP_?HOOK|ADDITIONAL_?DEPS)`)(n)
		}},
	{"env.shell", High, "is read by a shell at start-up or on every command: it runs code of the publisher's choosing",
		func(n string) bool {
			return strings.HasPrefix(n, "BASH_FUNC_") || exact("ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS0", "PS1", "PS2", "PS4",
				"PROMPT_COMMAND", "ZDOTDIR", "IFS", "CDPATH", "FPATH", "KSH_ENV", "FCEDIT", "INPUTRC", "GLOBIGNORE",
				"EXECIGNORE", "BASH_XTRACEFD", "BASH_LOADABLES_PATH", "SHELL", "COMSPEC", "PATHEXT", "PSMODULEPATH",
				"PSEXECUTIONPOLICYPREFERENCE", "ZSH_SCRIPT", "FISH_INIT")(n)
		}},
	{"env.path", High, "changes which executables are found: another program runs under a familiar name",
		exact("PATH")},
	{"env.exec-helper", High, "names a program that tools execute on the server's behalf (ssh, askpass, editor, pager, proxy command)",
		func(n string) bool {
			return strings.HasSuffix(n, "ASKPASS") || strings.HasSuffix(n, "_SSH_COMMAND") || strings.HasSuffix(n, "_PROXY_COMMAND") ||
				strings.HasSuffix(n, "_RSH") || strings.HasPrefix(n, "GIT_CONFIG") ||
				exact("GIT_SSH", "GIT_EXEC_PATH", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_PAGER", "GIT_EXTERNAL_DIFF",
					"GIT_TEMPLATE_DIR", "GIT_DIR", "GIT_WORK_TREE", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PROXY_COMMAND",
					"EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN", "LESSCLOSE", "TERMINAL", "SUDO_EDITOR")(n)
		}},
	{"env.package-source", High, "changes where packages are fetched from or how the package manager runs: other code is installed and run",
		func(n string) bool {
			return strings.HasPrefix(n, "NPM_CONFIG_") || strings.HasPrefix(n, "PNPM_CONFIG_") || strings.HasPrefix(n, "YARN_") ||
				strings.HasPrefix(n, "BUN_CONFIG_") || strings.HasPrefix(n, "COREPACK_") ||
				re(`^(PIP|UV|PIPX|POETRY|PDM|HATCH|CONDA|MAMBA|TWINE|NUGET|CARGO|GO|DENO|NPX|JSR|PNPM|BUNDLE|GEM|COMPOSER|MAVEN|GRADLE)_.*(INDEX|REGISTRY|REGISTRIES|FIND_LINKS|TRUSTED_HOST|CONFIG_FILE|SOURCE|MIRROR|PROXY|EXTRA_URL|REPO|DEPENDENCIES)`)(n) ||
				exact("GOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOINSECURE", "GOSUMDB", "GOPRIVATE", "GONOPROXY", "UV_PYTHON",
					"UV_NO_VERIFY_HASHES", "PIP_REQUIRE_HASHES", "PIP_NO_VERIFY")(n)
		}},
	{"env.tls", Medium, "weakens TLS trust or routes traffic through another host: the server's connections can be intercepted",
		func(n string) bool {
			return exact("NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
				"CURL_CA_BUNDLE", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO", "PYTHONHTTPSVERIFY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
				"FTP_PROXY", "GRPC_PROXY", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "AWS_CA_BUNDLE", "CARGO_HTTP_CAINFO",
				"DENO_TLS_CA_STORE", "DENO_CERT", "NODE_USE_ENV_PROXY", "GODEBUG")(n)
		}},
	{"env.config-location", Medium, "moves where configuration, credentials or start-up files (.npmrc, .bashrc, .gitconfig) are read from",
		exact("HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME", "XDG_DATA_DIRS",
			"TMPDIR", "TEMP", "TMP", "DOCKER_HOST", "CONTAINER_HOST", "KUBECONFIG", "DOCKER_CONFIG", "SSH_AUTH_SOCK", "GPG_AGENT_INFO",
			"GNUPGHOME", "NETRC", "CURL_HOME", "WGETRC", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")},
}

// EnvRule judges an environment variable name. ok is false when no rule applies.
func EnvRule(name string) (f EnvFinding, ok bool) {
	if !envNameRE.MatchString(name) {
		return EnvFinding{"env.malformed-name", High, "is not a portable variable name; shells and loaders may read it as something else (exported functions such as BASH_FUNC_x%% are names of this kind)"}, true
	}
	n := strings.ToUpper(name)
	for _, fam := range envFamilies {
		if fam.match(n) {
			return EnvFinding{fam.rule, fam.severity, fam.reason}, true
		}
	}
	return EnvFinding{}, false
}

// envName adds the finding for one variable. Proxy, TLS and configuration-location settings
// matter only when the publisher fixes their value (a user pointing KUBECONFIG at their own
// file is ordinary); the rest matter by name.
func envName(r *report, name, ptr string, fixed bool, value string) {
	f, ok := EnvRule(name)
	if !ok {
		return
	}
	if (f.Rule == "env.tls" || f.Rule == "env.config-location") && !fixed {
		return
	}
	msg := "environment variable " + name + " " + f.Reason
	if fixed {
		msg += " (set to " + quote(value) + ")"
	}
	r.add(f.Rule, f.Severity, ptr, msg)
}
