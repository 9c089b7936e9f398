package mirror

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the mirror's Prometheus counters: vetted_mirror_entries_total{upstream,
// outcome} (one increment per upstream entry, by outcome) and vetted_mirror_runs_total
// {upstream, result} (result: complete, partial, error). A nil *Metrics counts nothing.
type Metrics struct {
	entries *prometheus.CounterVec
	runs    *prometheus.CounterVec
}

// NewMetrics returns the counters; register them with Collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vetted_mirror_entries_total",
			Help: "Upstream server versions processed by curation, by upstream and outcome (published, pending_review, rejected, unchanged, refused, quarantined, skipped, failed).",
		}, []string{"upstream", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vetted_mirror_runs_total",
			Help: "Curation runs, by upstream and result (complete, partial, error).",
		}, []string{"upstream", "result"}),
	}
}

// Collectors are what to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.entries, m.runs}
}

// Init makes every outcome of upstream visible at 0 before the first run.
func (m *Metrics) Init(upstream string) {
	if m == nil {
		return
	}
	for _, o := range Outcomes {
		m.entries.WithLabelValues(upstream, o)
	}
	for _, r := range []string{"complete", "partial", "error"} {
		m.runs.WithLabelValues(upstream, r)
	}
}

func (m *Metrics) add(upstream, outcome string) {
	if m == nil {
		return
	}
	m.entries.WithLabelValues(upstream, outcome).Inc()
}

func (m *Metrics) run(upstream string, r *Report) {
	if m == nil {
		return
	}
	res := "complete"
	switch {
	case r.Error != "":
		res = "error"
	case !r.Complete:
		res = "partial"
	}
	m.runs.WithLabelValues(upstream, res).Inc()
}
