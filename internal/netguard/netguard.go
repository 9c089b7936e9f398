package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults, set in one place.
const (
	DefaultMaxResponseBytes = 32 << 20 // 32 MiB
	DefaultTimeout          = 2 * time.Minute
	DefaultDialTimeout      = 10 * time.Second
	DefaultMaxRedirects     = 5
)

// ErrBlocked is wrapped by every refusal of a destination (host or address).
var ErrBlocked = errors.New("netguard: destination refused")

// ErrUnreachable is what a caller learns of any failure to get an HTTP answer from an
// allowed destination: refused or timed-out connections, resolution failures, TLS
// handshake failures, and peers that answer something other than HTTP. Telling these apart
// would make the guard a port scanner for whoever chooses the destination (a package
// identifier), so the details go only to the Guard's logger.
var ErrUnreachable = errors.New("registry unreachable")

// ErrResponseTooLarge is returned when a response body exceeds the Guard's size limit.
var ErrResponseTooLarge = errors.New("netguard: response too large")

// BlockedError names the destination a Guard refused and why. It matches ErrBlocked.
type BlockedError struct {
	// Host is the host name (or literal address) that was asked for.
	Host string
	// Addr is the resolved address that was refused; invalid when the host itself was.
	Addr netip.Addr
	// Reason says which rule refused it, e.g. "host not on the allowlist", "loopback".
	Reason string
}

func (e *BlockedError) Error() string {
	if e.Addr.IsValid() && e.Addr.String() != e.Host {
		return fmt.Sprintf("netguard: refused %s (%s): %s", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("netguard: refused %s: %s", e.Host, e.Reason)
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// Resolver resolves host names. *net.Resolver satisfies it; tests pass their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard is an outbound policy and the dialer and transport that enforce it. It is safe for
// concurrent use. Build one with New.
type Guard struct {
	hosts        []hostRule
	plain        []hostRule // plain-HTTP endpoints (insecure registries)
	anyHost      bool
	allowed      []netip.Prefix
	resolver     Resolver
	maxBytes     int64
	timeout      time.Duration
	dialTimeout  time.Duration
	maxRedirects int
	tlsConfig    *tls.Config
	logger       *slog.Logger

	transport *http.Transport
}

// Option configures a Guard.
type Option func(*Guard) error

// AllowAnyHostUnsafe turns the host allowlist off: any host whose addresses pass the
// address rules may be fetched from, over HTTPS on port 443 (other ports and plain HTTP
// still need an entry). For command-line tools where the user names the target; never
// for the server.
func AllowAnyHostUnsafe() Option {
	return func(g *Guard) error { g.anyHost = true; return nil }
}

// AllowNetworks lets addresses in these networks through even though they are loopback,
// private, link-local or otherwise special. A cloud metadata endpoint passes only when a
// prefix names that single address.
func AllowNetworks(prefixes ...netip.Prefix) Option {
	return func(g *Guard) error {
		for _, p := range prefixes {
			if !p.IsValid() {
				return fmt.Errorf("netguard: invalid network %v", p)
			}
			g.allowed = append(g.allowed, p.Masked())
		}
		return nil
	}
}

// WithResolver replaces the system resolver (net.DefaultResolver).
func WithResolver(r Resolver) Option {
	return func(g *Guard) error {
		if r == nil {
			return errors.New("netguard: nil resolver")
		}
		g.resolver = r
		return nil
	}
}

// MaxResponseBytes bounds every response body; reading past it fails with
// ErrResponseTooLarge.
func MaxResponseBytes(n int64) Option {
	return func(g *Guard) error {
		if n <= 0 {
			return fmt.Errorf("netguard: max response bytes must be positive, got %d", n)
		}
		g.maxBytes = n
		return nil
	}
}

// Timeout bounds each request, from sending it to reading the last byte of its body.
func Timeout(d time.Duration) Option {
	return func(g *Guard) error {
		if d <= 0 {
			return fmt.Errorf("netguard: timeout must be positive, got %v", d)
		}
		g.timeout = d
		return nil
	}
}

// DialTimeout bounds each connection attempt.
func DialTimeout(d time.Duration) Option {
	return func(g *Guard) error {
		if d <= 0 {
			return fmt.Errorf("netguard: dial timeout must be positive, got %v", d)
		}
		g.dialTimeout = d
		return nil
	}
}

// MaxRedirects bounds the redirects Client follows (0: none).
func MaxRedirects(n int) Option {
	return func(g *Guard) error {
		if n < 0 {
			return fmt.Errorf("netguard: max redirects must not be negative, got %d", n)
		}
		g.maxRedirects = n
		return nil
	}
}

// WithTLSConfig sets the TLS client configuration (e.g. a private CA). Its MinVersion is
// raised to TLS 1.2 when lower.
func WithTLSConfig(c *tls.Config) Option {
	return func(g *Guard) error {
		if c == nil {
			return errors.New("netguard: nil TLS config")
		}
		g.tlsConfig = c.Clone()
		return nil
	}
}

// WithLogger logs refusals. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(g *Guard) error {
		if l == nil {
			return errors.New("netguard: nil logger")
		}
		g.logger = l
		return nil
	}
}

// New builds a Guard. With no options it allows no host at all.
func New(opts ...Option) (*Guard, error) {
	g := &Guard{
		resolver:     net.DefaultResolver,
		maxBytes:     DefaultMaxResponseBytes,
		timeout:      DefaultTimeout,
		dialTimeout:  DefaultDialTimeout,
		maxRedirects: DefaultMaxRedirects,
		tlsConfig:    &tls.Config{},
		logger:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o(g); err != nil {
			return nil, err
		}
	}
	if g.tlsConfig.MinVersion < tls.VersionTLS12 {
		g.tlsConfig.MinVersion = tls.VersionTLS12
	}
	g.transport = &http.Transport{
		Proxy:                  nil, // a proxy would dial for us and bypass the address checks
		DialContext:            g.DialContext,
		TLSClientConfig:        g.tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    g.dialTimeout,
		ResponseHeaderTimeout:  g.timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           32,
	}
	return g, nil
}

// WithHosts returns a Guard that also allows hosts (AllowHosts entries), sharing g's
// transport and settings.
func (g *Guard) WithHosts(hosts ...string) (*Guard, error) {
	c := *g
	c.hosts = append([]hostRule(nil), g.hosts...)
	if err := AllowHosts(hosts...)(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// WithURLs returns a Guard that also allows the host and port of each URL over its own
// scheme (see AllowURLs), sharing g's transport and settings.
func (g *Guard) WithURLs(urls ...string) (*Guard, error) {
	c := *g
	c.hosts = append([]hostRule(nil), g.hosts...)
	if err := AllowURLs(urls...)(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// MaxBytes reports the response size limit.
func (g *Guard) MaxBytes() int64 { return g.maxBytes }

// CheckAddr returns a *BlockedError when a may not be connected to.
func (g *Guard) CheckAddr(host string, a netip.Addr) error {
	a = a.WithZone("")
	if !a.IsValid() {
		return &BlockedError{Host: host, Reason: "invalid address"}
	}
	unmapped := a.Unmap()
	if isMetadata(a) {
		for _, p := range g.allowed {
			if p.IsSingleIP() && (p.Addr() == a || p.Addr() == unmapped) {
				return nil
			}
		}
		return &BlockedError{Host: host, Addr: a, Reason: "cloud metadata endpoint"}
	}
	reason := classify(a)
	if reason == "" {
		return nil
	}
	for _, p := range g.allowed {
		if p.Contains(a) || p.Contains(unmapped) {
			return nil
		}
	}
	return &BlockedError{Host: host, Addr: a, Reason: reason + " address"}
}

// CheckURL checks what can be checked of u without resolving it: scheme, host and port
// allowlist, plain HTTP and, for a literal address, the address rules. Use it to reject configuration or input
// early; the transport checks again at dial time.
func (g *Guard) CheckURL(u *url.URL) error {
	if u == nil {
		return &BlockedError{Reason: "no URL"}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return &BlockedError{Host: u.Host, Reason: fmt.Sprintf("scheme %q (only http and https)", u.Scheme)}
	}
	if u.User != nil {
		return &BlockedError{Host: u.Hostname(), Reason: "credentials in URL"}
	}
	host := u.Hostname()
	if host == "" {
		return &BlockedError{Reason: "no host in URL"}
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	if err := g.checkDest(u.Scheme, host, port); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return g.CheckAddr(host, a)
	}
	return nil
}

// DialContext resolves address with the Guard's resolver, refuses it when any of its
// addresses is refused, and connects to an allowed address. The socket's address is
// checked once more right before connect.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &BlockedError{Host: address, Reason: "network " + network + " (only tcp)"}
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: %w", err)
	}
	// Guards made by WithHosts/WithURLs share this transport: the rules are those of the
	// Guard that sent the request.
	rules := g
	if rg, ok := ctx.Value(guardKey{}).(*Guard); ok {
		rules = rg
	}
	if err := rules.checkDest("", host, port); err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		rctx, cancel := context.WithTimeout(ctx, g.dialTimeout)
		addrs, err = g.resolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("netguard: resolving %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("netguard: resolving %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		if err := g.CheckAddr(host, a); err != nil {
			g.logger.LogAttrs(ctx, slog.LevelWarn, "outbound connection refused",
				slog.String("host", host), slog.String("addr", a.String()), slog.String("reason", err.Error()))
			return nil, err
		}
	}
	d := &net.Dialer{
		Timeout: g.dialTimeout,
		Control: func(_, addr string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return &BlockedError{Host: host, Reason: "unparsable socket address " + addr}
			}
			return g.CheckAddr(host, ap.Addr())
		},
	}
	var lastErr error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.WithZone("").String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// RoundTripper returns the guarded transport: host allowlist on every request (and so on
// every redirect hop a client follows), address rules at dial time, a deadline per request
// and the response size limit.
func (g *Guard) RoundTripper() http.RoundTripper { return roundTripper{g} }

// Client returns an http.Client over RoundTripper that follows at most MaxRedirects
// redirects and never from https to http.
func (g *Guard) Client() *http.Client {
	return &http.Client{
		Transport: g.RoundTripper(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > g.maxRedirects {
				return fmt.Errorf("netguard: more than %d redirects", g.maxRedirects)
			}
			if len(via) > 0 && via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return &BlockedError{Host: req.URL.Hostname(), Reason: "redirect from https to " + req.URL.Scheme}
			}
			return g.CheckURL(req.URL)
		},
	}
}

type roundTripper struct{ g *Guard }

// guardKey carries the Guard whose rules a dial on the shared transport obeys.
type guardKey struct{}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	g := rt.g
	if err := g.CheckURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		g.logger.LogAttrs(req.Context(), slog.LevelWarn, "outbound request refused",
			slog.String("host", req.URL.Hostname()), slog.String("reason", err.Error()))
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithValue(req.Context(), guardKey{}, g), g.timeout)
	resp, err := g.transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, g.unreachable(req, err)
	}
	if resp.ContentLength > g.maxBytes {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrResponseTooLarge, req.URL.Redacted(), resp.ContentLength, g.maxBytes)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: g.maxBytes, limit: g.maxBytes, cancel: cancel}
	return resp, nil
}

// unreachable turns a transport failure into the one text callers see, and logs the
// details. Refusals by the guard itself and the caller's own cancellation pass through.
func (g *Guard) unreachable(req *http.Request, err error) error {
	if errors.Is(err, ErrBlocked) {
		return err
	}
	if cerr := req.Context().Err(); cerr != nil {
		return cerr
	}
	g.logger.LogAttrs(req.Context(), slog.LevelWarn, "outbound request failed",
		slog.String("host", req.URL.Host), slog.String("scheme", req.URL.Scheme), slog.String("error", err.Error()))
	return ErrUnreachable
}

// limitedBody fails (rather than truncates) when more than limit bytes arrive, and
// releases the request's deadline when closed.
type limitedBody struct {
	rc     io.ReadCloser
	left   int64
	limit  int64
	cancel context.CancelFunc
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, b.limit)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, b.limit)
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// CloseIdleConnections closes the transport's idle connections, so that the next request
// dials (and is checked) again.
func (g *Guard) CloseIdleConnections() { g.transport.CloseIdleConnections() }
