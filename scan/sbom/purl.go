package sbom

import (
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"
)

// purlEcosystems maps purl types to OSV ecosystems for the types whose name and version map
// one to one. OS package types (apk, deb) need the distro qualifier and are handled apart.
var purlEcosystems = map[string]string{
	"npm":       "npm",
	"pypi":      "PyPI",
	"golang":    "Go",
	"maven":     "Maven",
	"cargo":     "crates.io",
	"gem":       "RubyGems",
	"nuget":     "NuGet",
	"composer":  "Packagist",
	"hex":       "Hex",
	"pub":       "Pub",
	"hackage":   "Hackage",
	"cran":      "CRAN",
	"conan":     "ConanCenter",
	"swift":     "SwiftURL",
	"bitnami":   "Bitnami",
	"julia":     "Julia",
	"opam":      "opam",
	"cocoapods": "", // no OSV ecosystem
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// NormalizePyPIName applies PEP 503 name normalisation.
func NormalizePyPIName(name string) string {
	if isNormalizedPyPI(name) {
		return name
	}
	return strings.ToLower(pep503.ReplaceAllLiteralString(name, "-"))
}

// FromPURL builds a Package from a purl, falling back to the given name and version where the
// purl has none. Packages whose purl is invalid or has no OSV ecosystem carry a Reason.
func FromPURL(purl, fallbackName, fallbackVersion string) Package {
	p := Package{Name: fallbackName, Version: fallbackVersion, PURL: purl}
	if purl == "" {
		p.Reason = "no package URL (purl)"
		return p
	}
	u, err := packageurl.FromString(purl)
	if err != nil {
		p.Reason = "invalid package URL: " + err.Error()
		return p
	}
	if u.Version != "" {
		p.Version = u.Version
	}
	p.Name = purlName(u)
	eco, reason := purlEcosystem(u)
	p.Ecosystem = eco
	switch {
	case reason != "":
		p.Reason = reason
	case p.Version == "":
		p.Reason = "no version"
	case p.Name == "":
		p.Reason = "no name"
	}
	return p
}

func purlName(u packageurl.PackageURL) string {
	switch u.Type {
	case "maven":
		if u.Namespace != "" {
			return u.Namespace + ":" + u.Name
		}
		return u.Name
	case "pypi":
		return NormalizePyPIName(u.Name)
	case "apk", "deb", "rpm":
		return u.Name
	case "golang":
		if u.Namespace == "" && u.Name == "go" {
			return "stdlib"
		}
	}
	if u.Namespace != "" {
		return u.Namespace + "/" + u.Name
	}
	return u.Name
}

var distroVersion = regexp.MustCompile(`^(\d+)\.(\d+)`)

func purlEcosystem(u packageurl.PackageURL) (eco, reason string) {
	switch u.Type {
	case "apk":
		distro := qualifier(u, "distro")
		base := "Alpine"
		if strings.EqualFold(u.Namespace, "wolfi") {
			return "Wolfi", ""
		}
		if strings.EqualFold(u.Namespace, "chainguard") {
			return "Chainguard", ""
		}
		// distro=alpine-3.22.0 or 3.22.0 → Alpine:v3.22
		d := strings.TrimPrefix(strings.ToLower(distro), "alpine-")
		if m := distroVersion.FindStringSubmatch(d); m != nil {
			return base + ":v" + m[1] + "." + m[2], ""
		}
		return base, ""
	case "deb":
		ns := strings.ToLower(u.Namespace)
		name := map[string]string{"debian": "Debian", "ubuntu": "Ubuntu"}[ns]
		if name == "" {
			return "", "no OSV ecosystem for deb namespace " + u.Namespace
		}
		distro := qualifier(u, "distro")
		if i := strings.LastIndex(distro, "-"); i >= 0 {
			distro = distro[i+1:]
		}
		if name == "Debian" && distro != "" {
			if m := regexp.MustCompile(`^\d+`).FindString(distro); m != "" {
				return name + ":" + m, ""
			}
		}
		return name, ""
	}
	eco, ok := purlEcosystems[u.Type]
	if !ok || eco == "" {
		return "", "no OSV ecosystem for package type " + u.Type
	}
	return eco, ""
}

func qualifier(u packageurl.PackageURL, key string) string {
	for _, q := range u.Qualifiers {
		if q.Key == key {
			return q.Value
		}
	}
	return ""
}

// isNormalizedPyPI is the fast path of NormalizePyPIName: lower case, no '_' or '.', no "--".
func isNormalizedPyPI(name string) bool {
	prev := byte(0)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z', c == '_', c == '.', c == '-' && prev == '-':
			return false
		}
		prev = c
	}
	return true
}
