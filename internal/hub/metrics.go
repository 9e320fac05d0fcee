package hub

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

// hubMetrics are the hub's Prometheus metrics, named as JupyterHub names
// them. Each Hub has its own set, so tests can run several hubs. It is safe
// for concurrent use.
//
// The hub writes Prometheus's text format itself. A metrics library runs
// package initialization in every jupygo process, a server too, and the
// one used before cost each idle server 0.6 MiB of mapped executable.
type hubMetrics struct {
	h *Hub

	mu         sync.Mutex
	histograms map[series]*histogram
	counters   map[series]uint64
}

// series is one time series: a metric name and one label.
type series struct {
	name, label, value string
}

// labels returns the series' label in the text format, with extra, an
// already formatted label such as le="0.5", after it.
func (s series) labels(extra string) string {
	l := s.label + "=" + strconv.Quote(s.value)
	if extra != "" {
		l += "," + extra
	}
	return "{" + l + "}"
}

// histogram counts observations in the cumulative buckets of
// durationBuckets.
type histogram struct {
	buckets []uint64 // buckets[i] counts observations <= durationBuckets[i]
	count   uint64
	sum     float64
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
	return &hubMetrics{h: h, histograms: map[series]*histogram{}, counters: map[series]uint64{}}
}

// observe records the duration since begun of a start or stop, named by
// metric, labelled with its outcome.
func (m *hubMetrics) observe(metric string, begun time.Time, err error) {
	status := "success"
	if err != nil {
		status = "failure"
	}
	seconds := time.Since(begun).Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	key := series{metric, "status", status}
	hist := m.histograms[key]
	if hist == nil {
		hist = &histogram{buckets: make([]uint64, len(durationBuckets))}
		m.histograms[key] = hist
	}
	for i, le := range durationBuckets {
		if seconds <= le {
			hist.buckets[i]++
		}
	}
	hist.count++
	hist.sum += seconds
}

// culled counts a server stopped by the idle culler for reason, idle or
// max_age.
func (m *hubMetrics) culled(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counters[series{culledMetric, "reason", reason}]++
}

// culledCount returns the number of servers culled for reason.
func (m *hubMetrics) culledCount(reason string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counters[series{culledMetric, "reason", reason}]
}

// write writes the recorded metrics in the text format, each metric with
// its TYPE line, in a stable order.
func (m *hubMetrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range sortedSeries(m.counters) {
		writeType(w, s.name, "counter")
		fmt.Fprintf(w, "%s%s %d\n", s.name, s.labels(""), m.counters[s])
	}
	for _, s := range sortedSeries(m.histograms) {
		hist := m.histograms[s]
		writeType(w, s.name, "histogram")
		for i, le := range durationBuckets {
			fmt.Fprintf(w, "%s_bucket%s %d\n", s.name,
				s.labels("le="+strconv.Quote(formatFloat(le))), hist.buckets[i])
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", s.name, s.labels(`le="+Inf"`), hist.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", s.name, s.labels(""), formatFloat(hist.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", s.name, s.labels(""), hist.count)
	}
}

// sortedSeries returns the keys of m sorted by name, then label value.
func sortedSeries[V any](m map[series]V) []series {
	keys := make([]series, 0, len(m))
	for s := range m {
		keys = append(keys, s)
	}
	slices.SortFunc(keys, func(a, b series) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.value, b.value))
	})
	return keys
}

// writeType writes the TYPE line of a metric.
func writeType(w io.Writer, name, kind string) {
	fmt.Fprintf(w, "# TYPE %s %s\n", name, kind)
}

// writeGauge writes one gauge without labels, with its TYPE line.
func writeGauge(w io.Writer, name string, value float64) {
	writeType(w, name, "gauge")
	fmt.Fprintf(w, "%s %s\n", name, formatFloat(value))
}

// formatFloat writes v as Prometheus's text format does: the shortest
// decimal that reads back as v.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeStoreGauges writes the gauges that come from the store, so they
// are right after a restart without any bookkeeping.
func (h *Hub) writeStoreGauges(w io.Writer) {
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	if _, total, err := h.store.ListUsers(ctx, store.UserQuery{Page: store.Page{Limit: 1}}); err == nil {
		writeGauge(w, "jupyterhub_total_users", float64(total))
	} else {
		h.log.Warn("counting users for metrics", "err", err)
	}
	if servers, err := h.store.ListServers(ctx, ""); err == nil {
		var running int
		for _, sv := range servers {
			if sv.Ready() {
				running++
			}
		}
		writeGauge(w, "jupyterhub_running_servers", float64(running))
	} else {
		h.log.Warn("counting servers for metrics", "err", err)
	}
	writeGauge(w, "jupygo_proxy_routes", float64(h.routes.Len()))
}

// handleMetrics serves GET /hub/metrics to holders of read:metrics, as
// JupyterHub does with authenticate_prometheus on, in Prometheus's text
// format with the process's own metrics after the hub's.
func (h *Hub) handleMetrics(w http.ResponseWriter, r *http.Request, id *identity) error {
	if !id.scopes.has("read:metrics") {
		return forbidden("read:metrics")
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	h.writeStoreGauges(bw)
	h.metrics.write(bw)
	writeProcessMetrics(bw)
	return bw.Flush()
}
