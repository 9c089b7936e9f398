package main

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/vetted-dev/vetted/internal/netguard"
)

// cliGuard builds the outbound guard of a command whose user names what it fetches
// (vetted osv sync --from URL, vetted verify IMAGE). Any host may be fetched from over
// HTTPS on port 443, since the user chose it (registries also redirect to token and blob
// hosts), but the address rules hold: no private, link-local, CGNAT or metadata address,
// at dial time and on every redirect. A named target is allowed at its own port: a URL
// over its own scheme, an image's registry over HTTPS (plain HTTP too when it is a
// loopback address or "localhost", as the OCI client does). A named target that is a
// loopback address or "localhost" is allowed explicitly; any other network comes only from
// the outbound section of the config file ($VETTED_CONFIG, or configPath).
func cliGuard(e *env, configPath string, logger *slog.Logger, targets []string, extra ...netguard.Option) (*netguard.Guard, error) {
	if configPath == "" {
		configPath = e.getenv("VETTED_CONFIG")
	}
	var oc outboundConfig
	if configPath != "" {
		f, err := loadConfigFile(configPath, true)
		if err != nil {
			return nil, err
		}
		if err := f.Section("outbound", &oc); err != nil {
			return nil, err
		}
	}
	opts := []netguard.Option{netguard.AllowAnyHostUnsafe()}
	for _, t := range targets {
		host := targetHost(t)
		if host == "" {
			continue
		}
		if scheme, _, ok := strings.Cut(t, "://"); ok {
			if scheme == "http" || scheme == "https" { // others are the command's to refuse
				opts = append(opts, netguard.AllowURLs(t))
			}
		} else {
			hostport, _, _ := strings.Cut(t, "/")
			opts = append(opts, netguard.AllowHosts(hostport))
			if isLoopbackHost(host) {
				opts = append(opts, netguard.AllowPlainHTTP(hostport))
			}
		}
		switch {
		case strings.EqualFold(host, "localhost"):
			opts = append(opts, netguard.AllowNetworks(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")))
		case host != "":
			// Only a loopback literal is allowed implicitly; private, link-local and
			// metadata addresses need the config file, whatever the command line says.
			if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() {
				opts = append(opts, netguard.AllowNetworks(netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())))
			}
		}
	}
	return oc.guard(logger, append(opts, extra...)...)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// targetHost returns the host of a URL or of an image reference ("host[:port]/repo…").
func targetHost(t string) string {
	if strings.Contains(t, "://") {
		u, err := url.Parse(t)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}
	first, _, _ := strings.Cut(t, "/")
	if h, _, err := net.SplitHostPort(first); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(first, "[]")
}
