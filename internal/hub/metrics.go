package hub

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jupygo/jupygo/internal/store"
)

// metrics are the hub's Prometheus metrics, named as JupyterHub names
// them. Each Hub has its own registry, so tests can run several hubs.
type metrics struct {
	registry *prometheus.Registry
	spawn    *prometheus.HistogramVec
	stop     *prometheus.HistogramVec
	culled   *prometheus.CounterVec
}

// durationBuckets suit starts and stops, which take from milliseconds for
// jupygo server to a minute for a slow server image.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

func newMetrics(h *Hub) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		spawn: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jupyterhub_server_spawn_duration_seconds",
			Help:    "Time taken for server spawning operation",
			Buckets: durationBuckets,
		}, []string{"status"}),
		stop: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jupyterhub_server_stop_seconds",
			Help:    "Time taken for server stopping operation",
			Buckets: durationBuckets,
		}, []string{"status"}),
		culled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jupygo_culled_servers_total",
			Help: "Servers stopped by the idle culler, by reason: idle or max_age",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(m.spawn, m.stop, m.culled, storeCollector{h: h},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// observe records the duration of a start or stop since begun.
func observe(v *prometheus.HistogramVec, begun time.Time, err error) {
	status := "success"
	if err != nil {
		status = "failure"
	}
	v.WithLabelValues(status).Observe(time.Since(begun).Seconds())
}

var (
	totalUsersDesc = prometheus.NewDesc("jupyterhub_total_users",
		"Total number of users", nil, nil)
	runningServersDesc = prometheus.NewDesc("jupyterhub_running_servers",
		"The number of user servers currently running", nil, nil)
	routesDesc = prometheus.NewDesc("jupygo_proxy_routes",
		"The number of routes in the built-in proxy", nil, nil)
)

// storeCollector reads its gauges from the store at each scrape, so they
// are right after a restart without any bookkeeping.
type storeCollector struct{ h *Hub }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- totalUsersDesc
	ch <- runningServersDesc
	ch <- routesDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
	defer cancel()
	if _, total, err := c.h.store.ListUsers(ctx, store.UserQuery{Page: store.Page{Limit: 1}}); err == nil {
		ch <- prometheus.MustNewConstMetric(totalUsersDesc, prometheus.GaugeValue, float64(total))
	} else {
		c.h.log.Warn("counting users for metrics", "err", err)
	}
	if servers, err := c.h.store.ListServers(ctx, ""); err == nil {
		running := 0
		for _, sv := range servers {
			if sv.Ready() {
				running++
			}
		}
		ch <- prometheus.MustNewConstMetric(runningServersDesc, prometheus.GaugeValue, float64(running))
	} else {
		c.h.log.Warn("counting servers for metrics", "err", err)
	}
	ch <- prometheus.MustNewConstMetric(routesDesc, prometheus.GaugeValue, float64(c.h.routes.Len()))
}

// handleMetrics serves GET /hub/metrics to holders of read:metrics, as
// JupyterHub does with authenticate_prometheus on.
func (h *Hub) handleMetrics(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("read:metrics") {
		return forbidden("read:metrics")
	}
	promhttp.HandlerFor(h.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
