package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: Rate requests per second on average, bursts of Burst.
// A zero Rate turns the limit off.
type RateLimit struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// keyedLimiter holds one token bucket per key, forgetting idle ones.
type keyedLimiter struct {
	limit RateLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim     *rate.Limiter
	seen    time.Time
	limited bool // the last request was refused
}

const maxBuckets = 100_000

func newKeyedLimiter(l RateLimit, now func() time.Time) *keyedLimiter {
	if l.Rate <= 0 {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &keyedLimiter{limit: l, now: now, buckets: map[string]*bucket{}}
}

// allow takes one token for key, or reports how long to wait for one; first is true for
// the first refusal after an allowed request (so that a flood is logged once, not per
// request).
func (k *keyedLimiter) allow(key string) (ok bool, wait time.Duration, first bool) {
	if k == nil {
		return true, 0, false
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= maxBuckets || now.Sub(k.swept) > time.Minute {
			k.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(k.limit.Rate), k.limit.Burst)}
		k.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		first = !b.limited
		b.limited = true
		return false, time.Second, first
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		first = !b.limited
		b.limited = true
		return false, d, first
	}
	b.limited = false
	return true, 0, false
}

// sweep drops buckets idle long enough to have refilled; when still full, drops them all
// (an attacker cycling keys gains at most one fresh burst per key).
func (k *keyedLimiter) sweep(now time.Time) {
	k.swept = now
	full := time.Duration(float64(k.limit.Burst)/k.limit.Rate*float64(time.Second)) + time.Second
	for key, b := range k.buckets {
		if now.Sub(b.seen) > full {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= maxBuckets {
		k.buckets = map[string]*bucket{}
	}
}

// clientAddr is the rate-limit key of the client: its IP (IPv6 grouped by /64), taken from
// X-Forwarded-For only when the direct peer is a trusted proxy.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	addr := peerAddr(r.RemoteAddr)
	if addr.IsValid() && inPrefixes(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = a.Unmap()
			if !inPrefixes(addr, trusted) {
				break
			}
		}
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
