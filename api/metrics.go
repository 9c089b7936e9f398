package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests and their latency by route pattern (the mux pattern, e.g.
// "GET /v0.1/servers/{serverName}/versions/{version}", or "unmatched") and status code.
// Each Server has its own Prometheus registry.
type metrics struct {
	// byRoute caches the counter and histogram of each (route, code).
	mu      sync.RWMutex
	byRoute map[routeCode]routeMetrics

	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// Response cache: lookups by kind (version, server, list) and result (hit, miss), and
	// generations dropped because the store changed.
	cache       map[string]prometheus.Counter
	generations prometheus.Counter
	// integrity counts stored versions refused because they no longer match the audit
	// event that created them.
	integrity prometheus.Counter
}

// chainBroken counts writes refused because the audit chain is broken (the registry's
// read-only state). Writes fail in the stores, far from any Server, so the counter is
// the process's, registered in every Server's registry.
var chainBroken = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "vetted_audit_chain_broken_total",
	Help: "Writes refused because the audit chain is broken; the registry is read-only until it is repaired.",
})

// cacheCount counts one lookup of kind ("version", "server", "list") that hit or missed.
func (m *metrics) cacheCount(kind string, hit bool) {
	r := "miss"
	if hit {
		r = "hit"
	}
	m.cache[kind+"/"+r].Inc()
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vetted_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vetted_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and status code.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "code"}),
	}
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vetted_cache_lookups_total",
		Help: "Response cache lookups, by kind of response and result.",
	}, []string{"kind", "result"})
	m.cache = map[string]prometheus.Counter{}
	for _, k := range []string{"version", "server", "list"} {
		for _, r := range []string{"hit", "miss"} {
			m.cache[k+"/"+r] = lookups.WithLabelValues(k, r)
		}
	}
	m.generations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vetted_cache_generations_total",
		Help: "Times the response cache was dropped because the store reported a change.",
	})
	m.integrity = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vetted_integrity_failures_total",
		Help: "Stored versions refused by the read path because they no longer match the audit event that created them.",
	})
	m.reg.MustRegister(m.requests, m.latency, lookups, m.generations, m.integrity, chainBroken, buildInfoGauge(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type routeKey struct{}

type routeCode struct {
	route string
	code  int
}

type routeMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// forRoute returns the metrics of route and code, without hashing labels once seen.
func (m *metrics) forRoute(route string, code int) routeMetrics {
	k := routeCode{route, code}
	m.mu.RLock()
	rm, ok := m.byRoute[k]
	m.mu.RUnlock()
	if ok {
		return rm
	}
	rm = routeMetrics{
		requests: m.requests.WithLabelValues(route, itoa(code)),
		latency:  m.latency.WithLabelValues(route, itoa(code)),
	}
	m.mu.Lock()
	if m.byRoute == nil {
		m.byRoute = map[routeCode]routeMetrics{}
	}
	m.byRoute[k] = rm
	m.mu.Unlock()
	return rm
}

// recorder captures the status code and the route of a request.
type recorder struct {
	http.ResponseWriter
	status int
	route  string
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// setRoute records the route pattern of r for the metrics middleware.
func setRoute(r *http.Request, pattern string) {
	if rec, ok := r.Context().Value(routeKey{}).(*recorder); ok && pattern != "" {
		rec.route = pattern
	}
}

func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, rec)))
		route := rec.route
		if route == "" {
			route = "unmatched"
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		rm := m.forRoute(route, status)
		rm.requests.Inc()
		rm.latency.Observe(time.Since(start).Seconds())
	})
}

var smallInts = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func itoa(n int) string {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return strconv.Itoa(n)
}
