package api

import "github.com/prometheus/client_golang/prometheus"

// WithCollectors adds Prometheus collectors that live outside the HTTP layer (e.g. the
// mirror's counters, registry/mirror) to the server's /metrics.
func WithCollectors(cs ...prometheus.Collector) Option {
	return func(o *options) error {
		o.collectors = append(o.collectors, cs...)
		return nil
	}
}
