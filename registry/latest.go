package registry

import (
	"strconv"
	"strings"
)

// Latest returns the index of the latest version among vs (which should all be published
// versions of one server), or -1 if vs is empty. As in the official MCP registry: versions
// that parse as semantic versions are ordered by semver precedence and win over non-semver
// ones; among non-semver versions the later PublishedAt wins, and among semantic versions of
// equal precedence (differing only in build metadata) the earlier PublishedAt does.
func Latest(vs []Version) int {
	best := -1
	for i := range vs {
		if best < 0 || newer(vs[i], vs[best]) {
			best = i
		}
	}
	return best
}

// newer reports whether a should be preferred over b as latest.
func newer(a, b Version) bool {
	sa, okA := parseSemver(a.Version)
	sb, okB := parseSemver(b.Version)
	switch {
	case okA && okB:
		if c := compareSemver(sa, sb); c != 0 {
			return c > 0
		}
		// Equal precedence (3.0.0+a and 3.0.0+b): upstream's CompareVersions answers 0, and
		// a version published later takes latest only when it compares strictly greater, so
		// the one published first stays latest.
		return a.PublishedAt.Before(b.PublishedAt)
	case okA != okB:
		return okA
	}
	return a.PublishedAt.After(b.PublishedAt)
}

type semver struct {
	major, minor, patch uint64
	pre                 []string
}

// parseSemver parses a SemVer 2.0.0 string, with an optional leading "v". Build metadata
// is ignored, as precedence requires.
func parseSemver(s string) (semver, bool) {
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return semver{}, false
		}
		s = s[:i]
	}
	var pre string
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre = s[i+1:]
		s = s[:i]
		if !validIdents(pre, true) {
			return semver{}, false
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return semver{}, false
	}
	var nums [3]uint64
	for i, p := range parts {
		if !isNumericIdent(p) {
			return semver{}, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return semver{}, false
		}
		nums[i] = n
	}
	v := semver{major: nums[0], minor: nums[1], patch: nums[2]}
	if pre != "" {
		v.pre = strings.Split(pre, ".")
	}
	return v, true
}

func isNumericIdent(p string) bool {
	if p == "" || (len(p) > 1 && p[0] == '0') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		allDigits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allDigits = false
			default:
				return false
			}
		}
		if pre && allDigits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func compareSemver(a, b semver) int {
	for _, d := range [][2]uint64{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if d[0] != d[1] {
			if d[0] > d[1] {
				return 1
			}
			return -1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := compareIdent(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) > len(b.pre):
		return 1
	case len(a.pre) < len(b.pre):
		return -1
	}
	return 0
}

func compareIdent(a, b string) int {
	an, aErr := strconv.ParseUint(a, 10, 64)
	bn, bErr := strconv.ParseUint(b, 10, 64)
	switch {
	case aErr == nil && bErr == nil:
		switch {
		case an > bn:
			return 1
		case an < bn:
			return -1
		}
		return 0
	case aErr == nil:
		return -1
	case bErr == nil:
		return 1
	}
	return strings.Compare(a, b)
}
