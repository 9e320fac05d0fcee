package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jupygo/jupygo/internal/store"
)

// hubMetrics are the hub's Prometheus metrics, named as JupyterHub names
// them. Each Hub has its own set, so tests can run several hubs.
type hubMetrics struct {
	set *metrics.Set
}

// durationBuckets suit starts and stops, which take from milliseconds for
// jupygo server to a minute for a slow server image.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Names of the metrics a hub records as things happen. The gauges are
// read from the store at each scrape instead.
const (
	spawnMetric  = "jupyterhub_server_spawn_duration_seconds"
	stopMetric   = "jupyterhub_server_stop_seconds"
	culledMetric = "jupygo_culled_servers_total"
)

func newMetrics(h *Hub) *hubMetrics {
	m := &hubMetrics{set: metrics.NewSet()}
	m.set.RegisterMetricsWriter(func(w io.Writer) { h.writeStoreGauges(w) })
	return m
}

// observe records the duration since begun of a start or stop, named by
// metric, labelled with its outcome.
func (m *hubMetrics) observe(metric string, begun time.Time, err error) {
	status := "success"
	if err != nil {
		status = "failure"
	}
	name := fmt.Sprintf("%s{status=%q}", metric, status)
	m.set.GetOrCreatePrometheusHistogramExt(name, durationBuckets).UpdateDuration(begun)
}

// culled counts a server stopped by the idle culler for reason, idle or
// max_age.
func (m *hubMetrics) culled(reason string) {
	m.set.GetOrCreateCounter(fmt.Sprintf("%s{reason=%q}", culledMetric, reason)).Inc()
}

// writeStoreGauges writes the gauges that come from the store, so they
// are right after a restart without any bookkeeping.
func (h *Hub) writeStoreGauges(w io.Writer) {
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	if _, total, err := h.store.ListUsers(ctx, store.UserQuery{Page: store.Page{Limit: 1}}); err == nil {
		metrics.WriteGaugeUint64(w, "jupyterhub_total_users", uint64(total))
	} else {
		h.log.Warn("counting users for metrics", "err", err)
	}
	if servers, err := h.store.ListServers(ctx, ""); err == nil {
		var running uint64
		for _, sv := range servers {
			if sv.Ready() {
				running++
			}
		}
		metrics.WriteGaugeUint64(w, "jupyterhub_running_servers", running)
	} else {
		h.log.Warn("counting servers for metrics", "err", err)
	}
	metrics.WriteGaugeUint64(w, "jupygo_proxy_routes", uint64(h.routes.Len()))
}

// handleMetrics serves GET /hub/metrics to holders of read:metrics, as
// JupyterHub does with authenticate_prometheus on, in Prometheus's text
// format with the process's own metrics after the hub's.
func (h *Hub) handleMetrics(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("read:metrics") {
		return forbidden("read:metrics")
	}
	metrics.ExposeMetadata(true)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.metrics.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	return nil
}
