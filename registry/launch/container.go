package launch

import (
	"path"
	"regexp"
	"strings"
)

// Severities, in order.
const (
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

// containerRuntimes are runtime hints whose runtime arguments are container runtime flags.
var containerRuntimes = map[string]bool{"docker": true, "podman": true, "nerdctl": true, "finch": true, "lima": true, "colima": true}

// Flags of `docker run` / `podman run` that take a value (long names, without dashes).
var valueFlags = set("add-host", "annotation", "attach", "blkio-weight", "blkio-weight-device", "cap-add", "cap-drop",
	"cgroup-parent", "cgroupns", "cidfile", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpu-shares",
	"cpus", "cpuset-cpus", "cpuset-mems", "device", "device-cgroup-rule", "device-read-bps", "device-read-iops",
	"device-write-bps", "device-write-iops", "dns", "dns-option", "dns-search", "domainname", "entrypoint", "env",
	"env-file", "expose", "gpus", "group-add", "health-cmd", "health-interval", "health-retries", "health-start-period",
	"health-start-interval", "health-timeout", "hostname", "ip", "ip6", "ipc", "isolation", "kernel-memory", "label",
	"label-file", "link", "link-local-ip", "log-driver", "log-opt", "mac-address", "memory", "memory-reservation",
	"memory-swap", "memory-swappiness", "mount", "name", "network", "net", "network-alias", "net-alias",
	"oom-score-adj", "pid", "pids-limit", "platform", "publish", "pull", "restart", "runtime", "security-opt",
	"shm-size", "stop-signal", "stop-timeout", "storage-opt", "sysctl", "tmpfs", "ulimit", "user", "userns", "uts",
	"volume", "volume-driver", "volumes-from", "workdir", "detach-keys", "uidmap", "gidmap", "subuidname",
	"subgidname", "hooks-dir", "seccomp-policy", "cgroup-conf", "personality", "chrootdirs", "secret", "arch", "os")

// Short flags: those that take a value, and the long name of each.
var shortFlags = map[byte]string{'a': "attach", 'c': "cpu-shares", 'e': "env", 'h': "hostname", 'l': "label",
	'm': "memory", 'p': "publish", 'u': "user", 'v': "volume", 'w': "workdir",
	'd': "detach", 'i': "interactive", 't': "tty", 'P': "publish-all", 'q': "quiet"}

var boolFlags = set("rm", "init", "interactive", "tty", "detach", "privileged", "read-only", "publish-all",
	"no-healthcheck", "oom-kill-disable", "sig-proxy", "quiet", "disable-content-trust", "env-host", "rootfs",
	"http-proxy", "replace", "systemd", "read-only-tmpfs", "no-hosts", "help")

func set(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

// flag is one parsed runtime flag.
type flag struct {
	name    string // long name, lower case, without dashes
	value   string
	hasVal  bool
	ptr     string // the flag's pointer
	valPtr  string // the value's pointer
	written string // as written, for messages
}

// parseFlags reads argv words as container runtime flags: --long, --long=value,
// --long value, -s, -svalue, -s value, and clusters such as -itv. A flag not known to be
// boolean takes the next word as its value unless that word is itself a flag, so that no
// flag can hide inside another's value (-v --privileged reads as two flags: fail closed).
func parseFlags(toks []token) []flag {
	var out []flag
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		w := t.text
		switch {
		case w == "--":
			return out
		case strings.HasPrefix(w, "--") && len(w) > 2:
			name, val, hasEq := strings.Cut(w[2:], "=")
			f := flag{name: strings.ToLower(name), ptr: t.ptr, valPtr: t.ptr, written: "--" + name}
			switch {
			case hasEq:
				f.value, f.hasVal = val, true
			case boolFlags[f.name]:
			case i+1 < len(toks) && !strings.HasPrefix(toks[i+1].text, "-"):
				i++
				f.value, f.hasVal, f.valPtr = toks[i].text, true, toks[i].ptr
			}
			out = append(out, f)
		case strings.HasPrefix(w, "-") && len(w) > 1:
			for j := 1; j < len(w); j++ {
				long, known := shortFlags[w[j]]
				if !known {
					long = string(w[j])
				}
				f := flag{name: long, ptr: t.ptr, valPtr: t.ptr, written: "-" + string(w[j])}
				if known && valueFlags[long] {
					if rest := strings.TrimPrefix(w[j+1:], "="); j+1 < len(w) {
						f.value, f.hasVal = rest, true
					} else if i+1 < len(toks) && !strings.HasPrefix(toks[i+1].text, "-") {
						i++
						f.value, f.hasVal, f.valPtr = toks[i].text, true, toks[i].ptr
					}
					out = append(out, f)
					break
				}
				out = append(out, f)
			}
		}
	}
	return out
}

func truthy(f flag) bool {
	if !f.hasVal {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(f.value)) {
	case "false", "0", "no", "off":
		return false
	}
	return true
}

// Capabilities that give the host away.
var hostCaps = set("ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "DAC_OVERRIDE",
	"SYS_BOOT", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE", "NET_ADMIN", "SYSLOG", "SYS_TIME", "LINUX_IMMUTABLE",
	"SETFCAP", "SYS_RESOURCE", "CHECKPOINT_RESTORE", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_CONTROL")

var sensitiveDevice = regexp.MustCompile(`^/dev/(mem|kmem|port|sd[a-z]*|hd[a-z]*|vd[a-z]*|xvd[a-z]*|nvme|mapper|dm-|loop|disk|md|mmcblk|kvm|vhost|fuse|tty$|console|cpu|msr|sg|bsg|nbd|rbd|drbd|zram|root|block|char|vfio|ram|raw|bus/usb|snd|input|uinput|dri|net/tun|ptmx$)`)

// containerLint judges the flags of a container runtime.
func containerLint(r *report, toks []token) {
	for _, f := range parseFlags(toks) {
		switch f.name {
		case "privileged":
			if truthy(f) {
				r.add("container.privileged", Critical, f.ptr, f.written+" gives the container every capability and every host device: it can take the host")
			}
		case "volume":
			if f.hasVal {
				mountSource(r, volumeSource(f.value), f)
			}
		case "mount":
			if f.hasVal {
				mountSpec(r, f)
			}
		case "network", "net", "pid", "ipc", "uts", "userns", "cgroupns":
			namespace(r, f)
		case "cap-add":
			for _, c := range strings.Split(f.value, ",") {
				c = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
				if c == "" || userInput(c) {
					continue
				}
				if hostCaps[c] {
					r.add("container.cap-add", Critical, f.valPtr, f.written+" "+c+" lets the container escape to or control the host")
				} else {
					r.add("container.cap-add", High, f.valPtr, f.written+" "+c+" adds a capability beyond the runtime's default set")
				}
			}
		case "device":
			dev, _, _ := strings.Cut(f.value, ":")
			switch {
			case userInput(dev):
			case sensitiveDevice.MatchString(path.Clean(dev)) || dev == "" || path.Clean(dev) == "/dev":
				r.add("container.device", Critical, f.valPtr, f.written+" "+f.value+" exposes a host device that gives the host away (memory, disks, consoles, hypervisor)")
			default:
				r.add("container.device", High, f.valPtr, f.written+" "+f.value+" exposes a host device to the container")
			}
		case "device-cgroup-rule":
			r.add("container.device", Critical, f.ptr, f.written+" lets the container create and open host devices")
		case "entrypoint":
			r.add("container.entrypoint", High, f.ptr, f.written+" "+quote(f.value)+" replaces the signed image's entrypoint: another program runs")
		case "security-opt":
			securityOpt(r, f)
		case "volumes-from":
			r.add("container.volumes-from", High, f.ptr, f.written+" mounts every volume of another container")
		case "env":
			name, val, hasVal := strings.Cut(f.value, "=")
			if f.hasVal && !userInput(name) {
				envName(r, name, f.valPtr, hasVal && !userInput(val), val)
			}
		case "env-file":
			r.add("container.env-file", High, f.ptr, f.written+" loads environment variables from a host file that the registry cannot review")
		case "env-host":
			if truthy(f) {
				r.add("container.env-host", High, f.ptr, f.written+" passes the host's whole environment (loader and interpreter hooks included) into the container")
			}
		case "runtime":
			r.add("container.runtime", High, f.ptr, f.written+" "+quote(f.value)+" changes the OCI runtime that starts the container")
		case "cgroup-parent":
			r.add("container.cgroup-parent", High, f.ptr, f.written+" places the container in a host cgroup of the publisher's choosing")
		case "sysctl":
			r.add("container.sysctl", Medium, f.ptr, f.written+" "+quote(f.value)+" changes kernel parameters for the container")
		case "rootfs":
			if truthy(f) {
				r.add("container.rootfs", Critical, f.ptr, f.written+" runs a host directory instead of the signed image")
			}
		case "hooks-dir", "seccomp-policy", "chrootdirs":
			r.add("container.runtime", High, f.ptr, f.written+" changes what the runtime executes around the container")
		}
	}
}

// volumeSource returns the host side of -v SRC:DST[:OPTS] ("" for an anonymous volume).
func volumeSource(v string) string {
	if len(v) >= 3 && isLetter(v[0]) && v[1] == ':' && (v[2] == '\\' || v[2] == '/') { // C:\dir:/dst
		rest := v[2:]
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			return v[:2] + rest[:i]
		}
		return v
	}
	src, _, found := strings.Cut(v, ":")
	if !found {
		return "" // an anonymous volume at v
	}
	return src
}

// mountSpec reads --mount type=bind,source=/,target=/host (CSV, keys in any order).
func mountSpec(r *report, f flag) {
	typ, src, device := "volume", "", ""
	for _, field := range splitCSV(f.value) {
		k, v, _ := strings.Cut(field, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "type":
			typ = strings.ToLower(strings.TrimSpace(v))
		case "source", "src":
			src = v
		case "volume-opt":
			if ok, dv, _ := strings.Cut(v, "="); strings.EqualFold(ok, "device") {
				device = dv
			}
		}
	}
	switch {
	case typ == "bind":
		mountSource(r, src, f)
	case device != "": // a local-driver volume bound to a host path
		mountSource(r, device, f)
	}
}

func splitCSV(s string) []string {
	var out []string
	var cur strings.Builder
	q := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			q = !q
		case c == ',' && !q:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

var (
	runtimeSocket = regexp.MustCompile(`(?i)(docker|containerd|podman|crio|cri-dockerd|buildkitd?|kubelet|dockershim|libvirt-sock|lxd|incus)[^/\\]*(\.sock)?$|\.sock$|\\\\\.\\pipe\\`)
	// Host paths that give the host away when mounted, read-only or not.
	sensitivePrefixes = []string{"/etc", "/root", "/proc", "/sys", "/dev", "/boot", "/run", "/var/run", "/var/lib/docker",
		"/var/lib/containerd", "/var/lib/kubelet", "/var/lib/containers", "/usr", "/bin", "/sbin", "/lib", "/lib64",
		"/private", "/System", "/Library", "/var/log", "/var/lib", "/var/spool/cron", "/lib/modules"}
	// Host directories that hold everyone's files: sensitive as a whole, not every child.
	sensitiveDirs = set("/home", "/Users", "/var", "/opt", "/srv", "/mnt", "/media", "/Volumes")
	homeSecrets   = regexp.MustCompile(`^(~|\$\{?HOME\}?|%USERPROFILE%|\{home\}|/home/[^/]+|/Users/[^/]+|/root)(/\.(ssh|aws|azure|gnupg|kube|docker|config|gcloud|npmrc|pypirc|netrc|git-credentials|bashrc|profile|zshrc|local)\b.*)?$`)
	windowsRoot   = regexp.MustCompile(`(?i)^[a-z]:[\\/]*$|^[a-z]:[\\/](windows|users|programdata|program files)`)
)

// mountSource judges the host side of a bind mount.
func mountSource(r *report, src string, f flag) {
	src = strings.TrimSpace(src)
	if src == "" || userInput(src) {
		return // an anonymous volume, or a host path the user chooses
	}
	hostPath := strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") || strings.HasPrefix(src, ".") ||
		strings.HasPrefix(src, "$") || strings.HasPrefix(src, "%") || strings.HasPrefix(src, `\\`) || windowsRoot.MatchString(src) ||
		(len(src) >= 2 && src[1] == ':')
	if !hostPath {
		return // a named volume
	}
	clean := src
	if strings.HasPrefix(src, "/") {
		clean = path.Clean(src)
	}
	switch {
	case runtimeSocket.MatchString(clean):
		r.add("container.runtime-socket", Critical, f.valPtr, f.written+" "+quote(f.value)+" mounts a container runtime's socket: whoever holds it controls the host")
	case clean == "/" || windowsRoot.MatchString(clean) || underAny(clean, sensitivePrefixes) || sensitiveDirs[clean] || homeSecrets.MatchString(clean):
		r.add("container.host-mount", Critical, f.valPtr, f.written+" "+quote(f.value)+" mounts a sensitive host path ("+clean+") into the container")
	default:
		r.add("container.bind-mount", High, f.valPtr, f.written+" "+quote(f.value)+" mounts a host path the publisher chose ("+clean+")")
	}
}

func underAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

func namespace(r *report, f flag) {
	v := strings.ToLower(strings.TrimSpace(f.value))
	switch {
	case !f.hasVal || userInput(v):
	case v == "host":
		sev := Critical
		if f.name == "uts" || f.name == "cgroupns" {
			sev = High
		}
		r.add("container.host-namespace", sev, f.valPtr, f.written+"=host shares the host's "+f.name+" namespace with the container")
	case strings.HasPrefix(v, "container:") || strings.HasPrefix(v, "ns:") || strings.HasPrefix(v, "/"):
		r.add("container.shared-namespace", High, f.valPtr, f.written+"="+f.value+" joins another "+f.name+" namespace")
	}
}

func securityOpt(r *report, f flag) {
	k, v, ok := strings.Cut(f.value, "=")
	if !ok {
		k, v, _ = strings.Cut(f.value, ":")
	}
	k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
	switch {
	case (k == "seccomp" || k == "apparmor" || k == "systempaths") && v == "unconfined",
		k == "label" && (v == "disable" || strings.HasPrefix(v, "type:spc_t") || v == "type:unconfined_t"),
		k == "no-new-privileges" && (v == "false" || v == "0"),
		k == "unmask":
		r.add("container.security-opt", Critical, f.valPtr, f.written+" "+quote(f.value)+" removes a confinement the container runtime applies by default")
	case k == "seccomp" || k == "apparmor" || k == "label" || k == "mask":
		r.add("container.security-opt", High, f.valPtr, f.written+" "+quote(f.value)+" replaces the runtime's default confinement profile")
	}
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "\"" + s + "\""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
