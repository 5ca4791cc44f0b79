package handlers

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skillreg/skillreg/registry"
)

// Metrics are the Prometheus metrics of one server, on a registry of their
// own so that tests can build many servers.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	issued    prometheus.Counter
	revoked   prometheus.Counter
	verified  *prometheus.CounterVec
	idChecks  *prometheus.CounterVec
	httpServe echo.HandlerFunc
}

// NewMetrics makes the metrics and their registry, with Go and process
// collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skillreg_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "skillreg_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		issued:  prometheus.NewCounter(prometheus.CounterOpts{Name: "skillreg_certificates_issued_total", Help: "Certificates issued."}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{Name: "skillreg_certificates_revoked_total", Help: "Certificates revoked."}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skillreg_verifications_total", Help: "Verifications by outcome.",
		}, []string{"outcome"}),
		idChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skillreg_id_checks_total", Help: "ID-number checks of number+name lookups by outcome (match, mismatch, locked).",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.issued, m.revoked, m.verified, m.idChecks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{registry.VerifyValid, registry.VerifyRevoked, registry.VerifyForged, registry.VerifyUnknown, registry.VerifyMalformed} {
		m.verified.WithLabelValues(o)
	}
	for _, o := range []string{registry.IDCheckMatch, registry.IDCheckMismatch, registry.IDCheckLocked} {
		m.idChecks.WithLabelValues(o)
	}
	m.httpServe = echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return m
}

// Hooks returns the registry hooks that feed these metrics.
func (m *Metrics) Hooks() registry.Hooks {
	return registry.Hooks{
		Issued:    func(*registry.Certificate) { m.issued.Inc() },
		Revoked:   func(*registry.Certificate) { m.revoked.Inc() },
		Verified:  func(status string) { m.verified.WithLabelValues(status).Inc() },
		IDChecked: func(outcome string) { m.idChecks.WithLabelValues(outcome).Inc() },
	}
}

// observe records one request.
func (m *Metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

func (m *Metrics) handler(c echo.Context) error { return m.httpServe(c) }
